import { bytesToHex, type Hex } from "./bytes";
import { CoreError } from "./errors";
import { Hasher, NODE_PREFIX } from "./hasher";
import { PositionTable } from "./positionTable";
import { checkDepth, checkIndex, recordLeaf } from "./proof";
import type { StatusRecord } from "./record";

/** A leaf to set: the slot and its 32-byte leaf hash (see recordLeaf). */
export interface LeafUpdate {
  index: number;
  leaf: Uint8Array;
}

/**
 * The fixed-depth, position-bound status tree of docs/spec.md, sparse and incremental.
 *
 * Only non-empty nodes are stored, one PositionTable per level, so memory follows the number of
 * used slots (about 130 bytes per credential), never 2^depth. A batch sets its leaves, then
 * re-hashes level by level only the ancestors of what changed, each ancestor once per batch.
 * The tree holds leaf hashes, not records: records live with whoever owns them (the service's
 * store, the auditor's replay); the tree answers roots and proofs.
 */
export class StatusTree {
  readonly depth: number;
  private readonly levels: PositionTable[];
  private readonly empty: Uint8Array[];
  private readonly scratch = new Uint8Array(65);
  /** node hashes computed since construction (leaf hashes are the caller's); for benchmarks */
  hashCount = 0;

  constructor(
    private readonly hasher: Hasher,
    depth: number,
    expectedSize = 16,
  ) {
    checkDepth(depth);
    this.depth = depth;
    this.empty = hasher.emptySubtrees(depth);
    this.levels = Array.from({ length: depth + 1 }, (_, level) => new PositionTable(Math.max(16, expectedSize / 2 ** level)));
    this.scratch[0] = NODE_PREFIX;
  }

  static async create(depth: number, expectedSize?: number): Promise<StatusTree> {
    return new StatusTree(await Hasher.create(), depth, expectedSize);
  }

  /** Number of used slots. */
  get size(): number {
    return this.levels[0].size;
  }

  get root(): Hex {
    return bytesToHex(this.node(this.depth, 0));
  }

  /** Leaf hash at `index` (EMPTY_LEAF for an unused slot). */
  leaf(index: number): Uint8Array {
    checkIndex(index, this.depth);
    return this.node(0, index);
  }

  /** Sets the leaves of the given records (last one wins per index) and returns the new root. */
  applyRecords(records: readonly StatusRecord[]): Hex {
    return this.applyBatch(records.map((record) => ({ index: record.index, leaf: recordLeaf(this.hasher, record) })));
  }

  /**
   * Sets the given leaves (last one wins per index) and re-hashes every touched ancestor once.
   * All indexes are checked before anything changes.
   */
  applyBatch(updates: readonly LeafUpdate[]): Hex {
    for (const { index, leaf } of updates) {
      checkIndex(index, this.depth);
      if (!(leaf instanceof Uint8Array) || leaf.length !== 32) {
        throw new CoreError("INVALID_FIELD", `leaf for index ${index} must be 32 bytes`, { index });
      }
    }
    const leaves = this.levels[0];
    for (const { index, leaf } of updates) leaves.set(index, leaf);
    this.rehash(uniqueSorted(updates.map((update) => update.index)));
    return this.root;
  }

  /** Sibling hashes from the leaf level up: the proof for `index`, used or unused. */
  prove(index: number): Hex[] {
    const bytes = this.proveBytes(index);
    const proof: Hex[] = new Array(this.depth);
    for (let level = 0; level < this.depth; level++) proof[level] = bytesToHex(bytes.subarray(level * 32, level * 32 + 32));
    return proof;
  }

  /** The proof as depth × 32 raw bytes (for callers that serialise it themselves). */
  proveBytes(index: number): Uint8Array {
    checkIndex(index, this.depth);
    const out = new Uint8Array(this.depth * 32);
    let position = index;
    for (let level = 0; level < this.depth; level++) {
      this.copyNode(level, position % 2 === 0 ? position + 1 : position - 1, out, level * 32);
      position = Math.floor(position / 2);
    }
    return out;
  }

  /**
   * The tree's state as byte chunks: header (magic, depth, root), per level the entry count, the
   * positions (float64, platform order) and the hashes, then an xxHash64 of everything before it.
   * Restoring needs no re-hashing. Writing the chunks somewhere is the caller's business.
   */
  snapshot(): Uint8Array[] {
    const header = new Uint8Array(8 + 32);
    const view = new DataView(header.buffer);
    view.setUint32(0, SNAPSHOT_MAGIC);
    view.setUint32(4, this.depth);
    header.set(this.node(this.depth, 0), 8);
    const chunks = [header];
    for (const table of this.levels) {
      const { positions, hashes } = table.entries();
      const count = new Uint8Array(8);
      new DataView(count.buffer).setFloat64(0, positions.length);
      chunks.push(count, new Uint8Array(positions.buffer), hashes);
    }
    chunks.push(this.hasher.checksum(chunks));
    return chunks;
  }

  /** Inverse of snapshot(); INVALID_SNAPSHOT if the bytes are truncated or inconsistent. */
  static restore(hasher: Hasher, bytes: Uint8Array): StatusTree {
    const fail = (why: string): never => {
      throw new CoreError("INVALID_SNAPSHOT", `status-tree snapshot ${why}`);
    };
    if (bytes.length < 48) fail("is truncated");
    const body = bytes.subarray(0, bytes.length - 8);
    if (bytesToHex(hasher.checksum([body])) !== bytesToHex(bytes.subarray(bytes.length - 8))) fail("checksum does not match");
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (view.getUint32(0) !== SNAPSHOT_MAGIC) fail("has the wrong magic number");
    const depth = view.getUint32(4);
    const root = bytes.slice(8, 40);
    let offset = 40;
    const sizes: number[] = [];
    const sections: { positions: Float64Array; hashes: Uint8Array }[] = [];
    for (let level = 0; level <= depth; level++) {
      if (offset + 8 > body.length) fail(`is truncated at level ${level}`);
      const count = view.getFloat64(offset);
      offset += 8;
      if (!Number.isSafeInteger(count) || count < 0 || offset + count * 40 > body.length) fail(`is truncated at level ${level}`);
      const positions = new Float64Array(bytes.slice(offset, offset + count * 8).buffer);
      offset += count * 8;
      sections.push({ positions, hashes: bytes.subarray(offset, offset + count * 32) });
      offset += count * 32;
      sizes.push(count);
    }
    if (offset !== body.length) fail("has trailing bytes");
    const tree = new StatusTree(hasher, depth, sizes[0]);
    sections.forEach(({ positions, hashes }, level) => {
      for (let i = 0; i < positions.length; i++) tree.levels[level].set(positions[i], hashes, i * 32);
    });
    if (bytesToHex(tree.node(depth, 0)) !== bytesToHex(root)) fail("root does not match its header");
    return tree;
  }

  private rehash(positions: Float64Array): void {
    let current = positions;
    for (let level = 1; level <= this.depth; level++) {
      const parents = new Float64Array(current.length);
      let count = 0;
      let previous = -1;
      for (let i = 0; i < current.length; i++) {
        const parent = Math.floor(current[i] / 2);
        if (parent !== previous) parents[count++] = previous = parent;
      }
      const table = this.levels[level];
      const scratch = this.scratch;
      for (let i = 0; i < count; i++) {
        const parent = parents[i];
        this.copyNode(level - 1, parent * 2, scratch, 1);
        this.copyNode(level - 1, parent * 2 + 1, scratch, 33);
        table.set(parent, this.hasher.hash(scratch));
      }
      this.hashCount += count;
      current = parents.subarray(0, count);
    }
  }

  private node(level: number, position: number): Uint8Array {
    const out = new Uint8Array(32);
    this.copyNode(level, position, out, 0);
    return out;
  }

  private copyNode(level: number, position: number, target: Uint8Array, offset: number): void {
    const table = this.levels[level];
    const slot = table.find(position);
    const source = slot === -1 ? this.empty[level] : table.hashBytes();
    const from = slot === -1 ? 0 : slot * 32;
    for (let i = 0; i < 32; i++) target[offset + i] = source[from + i];
  }
}

const SNAPSHOT_MAGIC = 0x53545431; // "STT1"

function uniqueSorted(indexes: number[]): Float64Array {
  const sorted = Float64Array.from(indexes).sort();
  let count = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[count++] = sorted[i];
  return sorted.subarray(0, count);
}
