import { bytesToHex, type Hex } from "./bytes";
import { CoreError } from "./errors";
import { Hasher, NODE_PREFIX } from "./hasher";
import { PositionTable } from "./positionTable";
import { checkDepth, checkIndex, recordLeaves } from "./proof";
import type { StatusRecord } from "./record";

/** Bytes per node preimage in a bulk hasher's input: 3 padding, prefix, left, right (word-aligned). */
export const PREIMAGE_STRIDE = 68;
const PREIMAGE_WORDS = PREIMAGE_STRIDE / 4;

/**
 * Hashes many node preimages at once, synchronously (accel/parallelHasher.ts splits them with a
 * worker thread). Preimage i occupies words [17 i, 17 i + 17) of the input: 3 padding bytes, the
 * node prefix, then the left and right child words the tree copies in; hash i is words [8 i, 8 i + 8).
 */
export interface BulkNodeHasher {
  /** The input for `count` preimages (its prefix bytes already set). */
  preimageWords(count: number): Int32Array;
  hashPreimages(count: number, hasher: Hasher): Int32Array;
}

/** A leaf to set: the slot and its 32-byte leaf hash (see recordLeaf). */
export interface LeafUpdate {
  index: number;
  leaf: Uint8Array;
}

/** A computed, not yet applied update: its root, and `commit()` to apply it without re-hashing. */
export interface PreparedUpdate {
  root: Hex;
  commit(): Hex;
}

/** StatusTree's prepared update: its new nodes, and the tree states it goes from and to. */
class TreeUpdate implements PreparedUpdate {
  committed = false;

  constructor(
    readonly root: Hex,
    /** levels of new nodes (released once committed) */
    public overlay: PositionTable[] | undefined,
    /** the update it was prepared on top of, while that one is not committed */
    public parent: TreeUpdate | undefined,
    /** the tree state it applies to, and the one it makes */
    readonly from: number,
    readonly to: number,
    readonly commit: () => Hex,
  ) {}
}

/**
 * The fixed-depth, position-bound status tree of docs/spec.md, sparse and incremental.
 *
 * Only non-empty nodes are stored, one PositionTable per level, so memory follows the number of
 * used slots (about 130 bytes per credential), never 2^depth. A batch sets its leaves, then
 * re-hashes level by level only the ancestors of what changed, each ancestor once per batch.
 * The tree holds leaf hashes, not records: records live with whoever owns them (the service's
 * anchored view, the auditor's replay); the tree answers roots and proofs.
 */
export class StatusTree {
  readonly depth: number;
  private readonly levels: PositionTable[];
  /** prefix at byte 3, left child at words 1..8, right at 9..16: word-aligned copies */
  private readonly scratch = new Uint8Array(68);
  private readonly scratchWords = new Int32Array(this.scratch.buffer);
  private readonly nodeInput = this.scratch.subarray(3);
  private readonly emptyWords: Int32Array[];
  /** node hashes computed since construction (leaf hashes are the caller's); for benchmarks */
  hashCount = 0;
  /** while previewRoot runs: where new nodes go, read before the tree itself */
  private overlay?: PositionTable[];
  /** while an update is prepared on top of uncommitted ones: their new nodes, newest first, read before the tree */
  private underlays: PositionTable[][] = [];
  /** the tree's state, so that a prepared update is committed only onto the state it was prepared on */
  private state = 0;
  private states = 0;

  /** Levels with at least this many nodes to hash go to the bulk hasher, if there is one. */
  static readonly PARALLEL_MIN_NODES = 4096;

  constructor(
    private readonly hasher: Hasher,
    depth: number,
    expectedSize = 16,
    private readonly parallel?: BulkNodeHasher,
  ) {
    checkDepth(depth);
    this.depth = depth;
    this.emptyWords = hasher.emptySubtrees(depth).map((hash) => new Int32Array(hash.slice().buffer));
    this.levels = Array.from({ length: depth + 1 }, (_, level) => new PositionTable(Math.max(16, expectedSize / 2 ** level)));
    this.scratch[3] = NODE_PREFIX;
  }

  static async create(depth: number, expectedSize?: number, parallel?: BulkNodeHasher): Promise<StatusTree> {
    return new StatusTree(await Hasher.create(), depth, expectedSize, parallel);
  }

  /** Number of used slots. */
  get size(): number {
    return this.levels[0].size;
  }

  /** Bytes held by the node tables: what the tree costs in memory. */
  get memoryBytes(): number {
    return this.levels.reduce((sum, table) => sum + table.memoryBytes, 0);
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
    const { indexes, leaves } = recordLeaves(this.hasher, records);
    return this.applyLeaves(indexes, leaves);
  }

  /** Sets the given leaves (last one wins per index) and re-hashes every touched ancestor once. */
  applyBatch(updates: readonly LeafUpdate[]): Hex {
    const leaves = new Uint8Array(updates.length * 32);
    updates.forEach(({ index, leaf }, i) => {
      if (!(leaf instanceof Uint8Array) || leaf.length !== 32) {
        throw new CoreError("INVALID_FIELD", `leaf for index ${index} must be 32 bytes`, { index });
      }
      leaves.set(leaf, i * 32);
    });
    return this.applyLeaves(
      updates.map((update) => update.index),
      leaves,
    );
  }

  /**
   * Bulk form of applyBatch without per-update objects: leaf i is `leaves[32i .. 32i+32)`.
   * All indexes are checked before anything changes.
   */
  applyLeaves(indexes: ArrayLike<number>, leaves: Uint8Array): Hex {
    if (leaves.length !== indexes.length * 32) {
      throw new CoreError("INVALID_FIELD", `${indexes.length} indexes need ${indexes.length * 32} leaf bytes, got ${leaves.length}`);
    }
    const limit = 2 ** this.depth;
    for (let i = 0; i < indexes.length; i++) {
      const index = indexes[i];
      if (!(index >= 0 && index < limit && Number.isInteger(index))) checkIndex(index, this.depth); // throws
    }
    setHashes((this.overlay ?? this.levels)[0], indexes, leaves);
    this.rehash(uniqueSorted(indexes));
    if (!this.overlay) this.state = ++this.states;
    return this.root;
  }

  /** previewRoot for records. */
  previewRecords(records: readonly StatusRecord[]): Hex {
    const { indexes, leaves } = recordLeaves(this.hasher, records);
    return this.previewRoot(indexes, leaves);
  }

  /**
   * The root these leaves would give, leaving the tree as it is: the service computes the root it
   * anchors while still serving proofs against the last anchored one.
   */
  previewRoot(indexes: ArrayLike<number>, leaves: Uint8Array): Hex {
    return this.prepareLeaves(indexes, leaves).root;
  }

  /**
   * previewRoot that keeps the nodes it computed: `commit()` later writes them into the tree
   * without hashing again (the service anchors the root first, then applies it). With `after`, the
   * update is computed on top of that prepared, possibly uncommitted one (the service prepares the
   * next batch while the previous one is in flight), and commits only after it. Refused with
   * STALE_UPDATE if the tree changed otherwise in between.
   */
  prepareLeaves(indexes: ArrayLike<number>, leaves: Uint8Array, after?: PreparedUpdate): PreparedUpdate {
    const base = this.pendingChain(after);
    const overlay = this.levels.map((_, level) => new PositionTable(Math.max(16, indexes.length / 2 ** level + 2)));
    this.overlay = overlay;
    this.underlays = base.map((update) => update.overlay!);
    let root: Hex;
    try {
      root = this.applyLeaves(indexes, leaves);
    } finally {
      this.overlay = undefined;
      this.underlays = [];
    }
    const from = after ? (after as TreeUpdate).to : this.state;
    const update: TreeUpdate = new TreeUpdate(root, overlay, base[0], from, ++this.states, () => this.commitUpdate(update));
    return update;
  }

  /** The uncommitted updates `after` stands on, newest first (none: it is committed, or absent); STALE_UPDATE if they do not lead to this tree's state. */
  private pendingChain(after: PreparedUpdate | undefined): TreeUpdate[] {
    if (after === undefined) return [];
    if (!(after instanceof TreeUpdate)) throw new CoreError("STALE_UPDATE", "the update was not prepared by this tree");
    const chain: TreeUpdate[] = [];
    let update: TreeUpdate | undefined = after;
    while (update && !update.committed) {
      chain.push(update);
      update = update.parent;
    }
    const from = chain.length > 0 ? chain[chain.length - 1].from : after.to;
    if (from !== this.state) throw new CoreError("STALE_UPDATE", "the tree changed after the update this one builds on was prepared");
    return chain;
  }

  private commitUpdate(update: TreeUpdate): Hex {
    if (update.committed || this.state !== update.from)
      throw new CoreError("STALE_UPDATE", "the tree changed after this update was prepared");
    update.overlay!.forEach((table, level) => {
      const { positions, hashes } = table.entries();
      for (let i = 0; i < positions.length; i++) this.levels[level].set(positions[i], hashes, i * 32);
    });
    update.committed = true;
    update.overlay = undefined;
    update.parent = undefined;
    this.state = update.to;
    return this.root;
  }

  /** Sibling hashes from the leaf level up: the proof for `index`, used or unused. */
  prove(index: number): Hex[] {
    const bytes = this.proveBytes(index);
    const hex = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("hex"); // one call, not depth
    const proof: Hex[] = new Array(this.depth);
    for (let level = 0; level < this.depth; level++) proof[level] = `0x${hex.slice(level * 64, level * 64 + 64)}`;
    return proof;
  }

  /** The proof as depth × 32 raw bytes (for callers that serialise it themselves). */
  proveBytes(index: number): Uint8Array {
    checkIndex(index, this.depth);
    const out = new Int32Array(this.depth * 8);
    let position = index;
    for (let level = 0; level < this.depth; level++) {
      this.copyWords(level, position % 2 === 0 ? position + 1 : position - 1, out, level * 8);
      position = Math.floor(position / 2);
    }
    return new Uint8Array(out.buffer);
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
    const chunks: Uint8Array[] = [header];
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
  static restore(hasher: Hasher, bytes: Uint8Array, parallel?: BulkNodeHasher): StatusTree {
    const fail = (why: string): never => {
      throw new CoreError("INVALID_SNAPSHOT", `status-tree snapshot ${why}`);
    };
    if (bytes.length < 48) fail("is truncated");
    const body = bytes.subarray(0, bytes.length - 8);
    if (bytesToHex(hasher.checksum([body])) !== bytesToHex(bytes.subarray(bytes.length - 8))) fail("checksum does not match");
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (view.getUint32(0) !== SNAPSHOT_MAGIC) fail("has the wrong magic number");
    const depth = view.getUint32(4);
    try {
      checkDepth(depth);
    } catch {
      fail(`has an invalid depth ${depth}`);
    }
    const root = bytes.slice(8, 40);
    const sections = snapshotSections(bytes, body.length, depth, fail);
    const tree = new StatusTree(hasher, depth, sections[0].positions.length, parallel);
    sections.forEach(({ positions, hashes }, level) => setHashes(tree.levels[level], positions, hashes));
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
      const table = (this.overlay ?? this.levels)[level];
      if (this.parallel && count >= StatusTree.PARALLEL_MIN_NODES) {
        const input = this.parallel.preimageWords(count);
        for (let i = 0; i < count; i++) {
          this.copyWords(level - 1, parents[i] * 2, input, i * PREIMAGE_WORDS + 1);
          this.copyWords(level - 1, parents[i] * 2 + 1, input, i * PREIMAGE_WORDS + 9);
        }
        const output = this.parallel.hashPreimages(count, this.hasher);
        for (let i = 0; i < count; i++) table.setWords(parents[i], output, i * 8);
      } else {
        for (let i = 0; i < count; i++) {
          const parent = parents[i];
          this.copyWords(level - 1, parent * 2, this.scratchWords, 1);
          this.copyWords(level - 1, parent * 2 + 1, this.scratchWords, 9);
          table.set(parent, this.hasher.hash(this.nodeInput));
        }
      }
      this.hashCount += count;
      current = parents.subarray(0, count);
    }
  }

  /** Copies node (level, position) as 8 words into `target` at word `at` (the hot path of rehash). */
  private copyWords(level: number, position: number, target: Int32Array, at: number): void {
    let table = this.levels[level];
    let slot = -1;
    if (this.overlay) {
      slot = this.overlay[level].find(position);
      if (slot !== -1) table = this.overlay[level];
      for (let u = 0; slot === -1 && u < this.underlays.length; u++) {
        slot = this.underlays[u][level].find(position);
        if (slot !== -1) table = this.underlays[u][level];
      }
    }
    if (slot === -1) slot = table.find(position);
    const source = slot === -1 ? this.emptyWords[level] : table.hashWords();
    const from = slot === -1 ? 0 : slot * 8;
    for (let k = 0; k < 8; k++) target[at + k] = source[from + k];
  }

  private node(level: number, position: number): Uint8Array {
    const out = new Int32Array(8);
    this.copyWords(level, position, out, 0);
    return new Uint8Array(out.buffer);
  }
}

const SNAPSHOT_MAGIC = 0x53545431; // "STT1"

function uniqueSorted(indexes: ArrayLike<number>): Float64Array {
  const sorted = Float64Array.from(indexes);
  let ascending = true;
  for (let i = 1; i < sorted.length && ascending; i++) ascending = sorted[i - 1] <= sorted[i];
  if (!ascending) sorted.sort();
  let count = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[count++] = sorted[i];
  return sorted.subarray(0, count);
}

/** Sets hash i of `hashes` (32 bytes each) at position i, word by word when the bytes are aligned. */
function setHashes(table: PositionTable, positions: ArrayLike<number>, hashes: Uint8Array): void {
  if (hashes.byteOffset % 4 === 0) {
    const words = new Int32Array(hashes.buffer, hashes.byteOffset, hashes.length / 4);
    for (let i = 0; i < positions.length; i++) table.setWords(positions[i], words, i * 8);
  } else {
    for (let i = 0; i < positions.length; i++) table.set(positions[i], hashes, i * 32);
  }
}

/** A snapshot's levels: per level, count(8) || positions(8 each) || hashes(32 each), every position in range. */
function snapshotSections(bytes: Uint8Array, end: number, depth: number, fail: (why: string) => never) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sections: { positions: Float64Array; hashes: Uint8Array }[] = [];
  let offset = 40;
  for (let level = 0; level <= depth; level++) {
    const count = offset + 8 > end ? -1 : view.getFloat64(offset);
    offset += 8;
    if (!Number.isSafeInteger(count) || count < 0 || offset + count * 40 > end) fail(`is truncated at level ${level}`);
    // copy: `bytes` may be a Buffer, whose slice() is a view on a larger, unaligned allocation
    const positions = new Float64Array(count);
    new Uint8Array(positions.buffer).set(bytes.subarray(offset, offset + count * 8));
    const limit = 2 ** (depth - level);
    if (!positions.every((position) => position >= 0 && position < limit && Number.isInteger(position)))
      fail(`has a bad position at level ${level}`);
    offset += count * 8;
    sections.push({ positions, hashes: bytes.subarray(offset, offset + count * 32) });
    offset += count * 32;
  }
  if (offset !== end) fail("has trailing bytes");
  return sections;
}
