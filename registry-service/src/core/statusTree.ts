import { bytesToHex, type Hex } from "./bytes";
import { CoreError } from "./errors";
import { Hasher, NODE_PREFIX } from "./hasher";
import { FIRST_CHUNK, NodeTable } from "./nodeTable";
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

/** Where a snapshot is read from, in order: `read` fills `into` completely or throws; `remaining` bytes are left. */
export interface SnapshotSource {
  read(into: Uint8Array): void;
  remaining(): number;
}

/** A snapshot held in memory, as a SnapshotSource. */
export function bytesSource(bytes: Uint8Array): SnapshotSource {
  let offset = 0;
  return {
    read(into) {
      if (offset + into.length > bytes.length) throw new CoreError("INVALID_SNAPSHOT", "status-tree snapshot is truncated");
      into.set(bytes.subarray(offset, offset + into.length));
      offset += into.length;
    },
    remaining: () => bytes.length - offset,
  };
}

/** Where the tree's levels write: its own node tables, or a prepared update's overlay. */
interface NodeSink {
  set(position: number, source: Uint8Array, offset?: number): void;
  setWords(position: number, source: Int32Array, offset?: number): void;
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
 * Only non-empty nodes are stored, one NodeTable per level, so memory follows the number of
 * used slots (about 64 bytes per credential when indexes are handed out in sequence), never 2^depth. A batch sets its leaves, then
 * re-hashes level by level only the ancestors of what changed, each ancestor once per batch.
 * The tree holds leaf hashes, not records: records live with whoever owns them (the service's
 * anchored view, the auditor's replay); the tree answers roots and proofs.
 */
export class StatusTree {
  readonly depth: number;
  private readonly levels: NodeTable[];
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
    void expectedSize; // node tables grow by chunks: nothing to size ahead
    this.levels = Array.from({ length: depth + 1 }, () => new NodeTable());
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
      const words = new Int32Array(hashes.buffer, hashes.byteOffset, hashes.length / 4);
      for (let i = 0; i < positions.length; i++) this.levels[level].setWords(positions[i], words, i * 8);
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
   * The tree's state as byte chunks (format STT2): header (magic, depth, root), per level the
   * length of its dense part (float64), the dense part's hashes in position order (32 bytes each,
   * zero for a free slot: views of the tree's own storage, not copies), the sparse part's entry count
   * (float64), positions (float64, platform order) and hashes, then an xxHash64 of everything before
   * it. Restoring needs no re-hashing. Writing the chunks somewhere is the caller's business, before
   * the tree changes.
   */
  snapshot(): Uint8Array[] {
    const header = new Uint8Array(8 + 32);
    const view = new DataView(header.buffer);
    view.setUint32(0, SNAPSHOT_MAGIC);
    view.setUint32(4, this.depth);
    header.set(this.node(this.depth, 0), 8);
    const chunks: Uint8Array[] = [header];
    const number = (value: number) => {
      const bytes = new Uint8Array(8);
      new DataView(bytes.buffer).setFloat64(0, value);
      return bytes;
    };
    for (const table of this.levels) {
      chunks.push(number(table.denseLength), ...table.denseBytes());
      const { positions, hashes } = table.sparseEntries();
      chunks.push(number(positions.length), new Uint8Array(positions.buffer), hashes);
    }
    chunks.push(this.hasher.checksum(chunks));
    return chunks;
  }

  /** Inverse of snapshot(); INVALID_SNAPSHOT if the bytes are truncated or inconsistent. */
  static restore(hasher: Hasher, bytes: Uint8Array, parallel?: BulkNodeHasher): StatusTree {
    return StatusTree.restoreFrom(hasher, bytesSource(bytes), parallel);
  }

  /**
   * restore() from a source read in order (a file read chunk by chunk: a national tree's snapshot
   * is larger than one buffer should be). Every count is checked against the bytes left before
   * anything is allocated; the checksum covers every byte read.
   */
  static restoreFrom(hasher: Hasher, source: SnapshotSource, parallel?: BulkNodeHasher): StatusTree {
    const checked = checksummed(hasher, source);
    const header = new Uint8Array(40);
    checked.read(header);
    const view = new DataView(header.buffer);
    if (view.getUint32(0) !== SNAPSHOT_MAGIC) snapshotFails("has the wrong magic number");
    const depth = view.getUint32(4);
    try {
      checkDepth(depth);
    } catch {
      snapshotFails(`has an invalid depth ${depth}`);
    }
    const tree = new StatusTree(hasher, depth, 16, parallel);
    for (let level = 0; level <= depth; level++) restoreLevel(tree.levels[level], checked, 2 ** (depth - level), level);
    const sum = checked.digest();
    const stored = new Uint8Array(8);
    source.read(stored);
    if (bytesToHex(sum) !== bytesToHex(stored)) snapshotFails("checksum does not match");
    if (source.remaining() !== 0) snapshotFails("has trailing bytes");
    if (bytesToHex(tree.node(depth, 0)) !== bytesToHex(header.subarray(8))) snapshotFails("root does not match its header");
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
      const table: NodeSink = (this.overlay ?? this.levels)[level];
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
    if (this.overlay && this.copyPending(level, position, target, at)) return;
    if (this.levels[level].copyTo(position, target, at)) return;
    const empty = this.emptyWords[level];
    for (let k = 0; k < 8; k++) target[at + k] = empty[k];
  }

  /** copyWords from the update being prepared and the uncommitted ones under it; false when none has the node. */
  private copyPending(level: number, position: number, target: Int32Array, at: number): boolean {
    let table = this.overlay![level];
    let slot = table.find(position);
    for (let u = 0; slot === -1 && u < this.underlays.length; u++) {
      table = this.underlays[u][level];
      slot = table.find(position);
    }
    if (slot === -1) return false;
    const source = table.hashWords();
    for (let k = 0; k < 8; k++) target[at + k] = source[slot * 8 + k];
    return true;
  }

  private node(level: number, position: number): Uint8Array {
    const out = new Int32Array(8);
    this.copyWords(level, position, out, 0);
    return new Uint8Array(out.buffer);
  }
}

const SNAPSHOT_MAGIC = 0x53545432; // "STT2": dense levels (STT1, the sparse tables only, is no longer read)

function snapshotFails(why: string): never {
  throw new CoreError("INVALID_SNAPSHOT", `status-tree snapshot ${why}`);
}

/** A source whose bytes are added to an xxHash64 as they are read (all but the checksum itself). */
function checksummed(hasher: Hasher, source: SnapshotSource) {
  const parts: Uint8Array[] = [];
  return {
    read(into: Uint8Array) {
      source.read(into);
      parts.push(into.length > 4096 ? into : into.slice());
    },
    remaining: () => source.remaining() - 8,
    /** the checksum over every byte read (the dense chunks are the tree's own: read again, not copied) */
    digest: () => hasher.checksum(parts),
  };
}

/** One level: dense length, dense hashes, sparse count, positions, hashes; every count checked against the bytes left and the level's width. */
function restoreLevel(table: NodeTable, source: ReturnType<typeof checksummed>, width: number, level: number): void {
  const number = new Uint8Array(8);
  const count = (what: string, bytesEach: number, most = width) => {
    source.read(number);
    const value = new DataView(number.buffer).getFloat64(0);
    if (!Number.isSafeInteger(value) || value < 0 || value > most || value * bytesEach > source.remaining())
      snapshotFails(`is truncated or corrupt at level ${level} (${what})`);
    return value;
  };
  // the dense part is at least its first chunk long, even on a level narrower than that
  table.restoreDense(count("dense part", 32, Math.max(width, FIRST_CHUNK)), (into) => source.read(into));
  const sparse = count("sparse part", 40);
  const positions = new Float64Array(sparse);
  source.read(new Uint8Array(positions.buffer));
  if (!positions.every((position) => position >= table.denseLength && position < width && Number.isInteger(position)))
    snapshotFails(`has a bad position at level ${level}`);
  const hashes = new Uint8Array(sparse * 32);
  source.read(hashes);
  setHashes(table, positions, hashes);
}

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
function setHashes(table: NodeSink, positions: ArrayLike<number>, hashes: Uint8Array): void {
  if (hashes.byteOffset % 4 === 0) {
    const words = new Int32Array(hashes.buffer, hashes.byteOffset, hashes.length / 4);
    for (let i = 0; i < positions.length; i++) table.setWords(positions[i], words, i * 8);
  } else {
    for (let i = 0; i < positions.length; i++) table.set(positions[i], hashes, i * 32);
  }
}
