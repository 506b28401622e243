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

/**
 * The root EventTree gives for these leaves (32 bytes each, in order), computed in place on bytes:
 * sorted pairs, an odd node moved up unchanged, as merkletreejs does (tested against EventTree).
 * What the anchorer and the audit's replay compute for every batch (neither needs a receipt);
 * receipts still come from EventTree. Held to the spec's vectors too.
 */
export function eventTreeRoot(hasher: Hasher, leaves: Uint8Array): Hex {
  let count = leaves.length / 32;
  if (!Number.isInteger(count) || count === 0) throw new CoreError("EMPTY_EVENT_TREE", "a batch needs at least one event");
  const nodes = leaves.slice();
  const pair = new Uint8Array(64);
  while (count > 1) {
    const pairs = count >>> 1;
    for (let i = 0; i < pairs; i++) {
      const left = nodes.subarray(i * 64, i * 64 + 32);
      const right = nodes.subarray(i * 64 + 32, i * 64 + 64);
      const ordered = compareBytes(left, right) <= 0;
      pair.set(ordered ? left : right, 0);
      pair.set(ordered ? right : left, 32);
      nodes.set(hasher.hash(pair), i * 32);
    }
    if (count % 2 === 1) nodes.copyWithin(pairs * 32, (count - 1) * 32, count * 32);
    count = pairs + (count % 2);
  }
  return bytesToHex(nodes.subarray(0, 32));
}

/** Buffer.compare's order (unsigned bytes, first difference decides) on two 32-byte hashes. */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 32; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
