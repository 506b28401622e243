import { MerkleTree } from "merkletreejs";
import { bytesToHex, hexToBytes, type Hex } from "./bytes";
import { CoreError } from "./errors";
import { encodeAppliedEvent, type AppliedEvent } from "./events";
import type { Hasher } from "./hasher";

/** An event's proof of inclusion in its batch's event tree (verifiable with OZ MerkleProof). */
export interface EventReceipt {
  position: number;
  leaf: Hex;
  proof: Hex[];
  root: Hex;
}

/**
 * A batch's applied events, in order, as a merkletreejs tree with sortPairs (docs/spec.md,
 * "Event tree"): leaves are keccak256(0x00 || applied event); an odd node moves up unchanged.
 */
export class EventTree {
  private readonly tree: MerkleTree;
  private readonly leaves: Buffer[];

  constructor(hasher: Hasher, events: readonly AppliedEvent[]) {
    if (events.length === 0) throw new CoreError("EMPTY_EVENT_TREE", "a batch needs at least one event");
    events.forEach((event, i) => {
      if (event.position !== i) throw new CoreError("INVALID_FIELD", `event ${i} has position ${event.position}`);
    });
    this.leaves = events.map((event) => toBuffer(hasher.leaf(encodeAppliedEvent(event))));
    this.tree = new MerkleTree(this.leaves, (data: Buffer) => toBuffer(hasher.hash(data)), { sortPairs: true });
  }

  get root(): Hex {
    return bytesToHex(this.tree.getRoot());
  }

  get size(): number {
    return this.leaves.length;
  }

  /** Receipt by position: merkletreejs' proof-by-leaf is a linear scan, proof-by-index is not. */
  receipt(position: number): EventReceipt {
    if (!Number.isInteger(position) || position < 0 || position >= this.leaves.length) {
      throw new CoreError("INDEX_OUT_OF_RANGE", `event position ${position} is outside [0, ${this.leaves.length})`);
    }
    const leaf = this.leaves[position];
    const proof = this.tree.getProof(leaf, position).map((step) => bytesToHex(step.data));
    return { position, leaf: bytesToHex(leaf), proof, root: this.root };
  }
}

/**
 * True when `event` is in the event tree of `receipt.root`: its leaf is computed here from the
 * event's bytes (and must be the receipt's), then folded with sorted pairs as OpenZeppelin's
 * MerkleProof.processProof does. Taking the event, not a leaf hash, is what keeps an inner node
 * (with a shorter proof) from passing as a leaf.
 */
export function verifyEventReceipt(hasher: Hasher, event: AppliedEvent, receipt: Pick<EventReceipt, "leaf" | "proof" | "root">): boolean {
  let node = hasher.leaf(encodeAppliedEvent(event));
  if (bytesToHex(node) !== receipt.leaf.toLowerCase()) return false;
  for (const step of receipt.proof) {
    const sibling = hexToBytes(step, 32, "proof step");
    node = Buffer.compare(node, sibling) <= 0 ? hasher.hash(Buffer.concat([node, sibling])) : hasher.hash(Buffer.concat([sibling, node]));
  }
  return bytesToHex(node) === receipt.root.toLowerCase();
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The event tree's root straight from its leaves (leaf i is bytes [32 i, 32 i + 32)), without
 * building the tree: the same fold merkletreejs makes with sortPairs (each pair hashed smaller
 * first, an odd node moved up unchanged), held to the same vectors. What the anchorer computes for
 * every batch; receipts still come from EventTree.
 */
export function eventTreeRoot(hasher: Hasher, leaves: Uint8Array): Hex {
  if (leaves.length === 0 || leaves.length % 32 !== 0)
    throw new CoreError("EMPTY_EVENT_TREE", "a batch needs at least one event (32-byte leaves)");
  let level = leaves.slice();
  const pair = new Uint8Array(64);
  while (level.length > 32) {
    const count = level.length / 32;
    const next = new Uint8Array(Math.ceil(count / 2) * 32);
    for (let i = 0; i + 1 < count; i += 2) {
      const left = level.subarray(i * 32, i * 32 + 32);
      const right = level.subarray(i * 32 + 32, i * 32 + 64);
      const leftFirst = Buffer.compare(left, right) <= 0;
      pair.set(leftFirst ? left : right, 0);
      pair.set(leftFirst ? right : left, 32);
      next.set(hasher.hash(pair), (i / 2) * 32);
    }
    if (count % 2 === 1) next.set(level.subarray((count - 1) * 32), (count - 1) * 16);
    level = next;
  }
  return bytesToHex(level);
}
