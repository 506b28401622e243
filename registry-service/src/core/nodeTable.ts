import { PositionTable } from "./positionTable";

/** Nodes per dense chunk (2 MiB of hashes): the dense part grows by whole chunks, never copied. */
const CHUNK_BITS = 16;
const CHUNK = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK - 1;
/** The first chunk starts this small and doubles up to CHUNK, so that a small tree stays small. */
export const FIRST_CHUNK = 64;

/**
 * One level of the status tree: a position (an integer below 2^53) to its 32-byte hash, stored as 8
 * words. Positions from 0 up form a dense part, kept in place with no key (32 bytes a node): the
 * service hands out indexes sequentially, so nearly every node falls there. The dense part grows
 * while it stays at least half full; any other position goes to a sparse PositionTable (about 44
 * bytes an entry). An all-zero hash marks a free dense slot: no stored node is zero (a leaf is a
 * keccak output and never EMPTY_LEAF; an inner node over something non-empty is not an empty
 * subtree's hash either).
 */
export class NodeTable {
  /** the dense part: positions [0, capacity), chunk c holds [c * CHUNK, (c + 1) * CHUNK) */
  private chunks: Int32Array[] = [];
  private capacity = 0;
  private denseCount = 0;
  private sparse = new PositionTable();
  private readonly scratch = new Int32Array(8);
  private readonly scratchBytes = new Uint8Array(this.scratch.buffer);

  /** Nodes stored. */
  get size(): number {
    return this.denseCount + this.sparse.size;
  }

  /** Bytes held: the dense chunks and the sparse table. */
  get memoryBytes(): number {
    return this.capacity * 32 + this.sparse.memoryBytes;
  }

  /** Positions [0, denseLength) are dense; none of them is in the sparse part. */
  get denseLength(): number {
    return this.capacity;
  }

  /** Copies the hash at `position` into `target` at word `at`; false (nothing copied) when there is none. */
  copyTo(position: number, target: Int32Array, at: number): boolean {
    if (position < this.capacity) {
      const words = this.chunks[position >>> CHUNK_BITS];
      const from = (position & CHUNK_MASK) * 8;
      let any = 0;
      for (let k = 0; k < 8; k++) any |= target[at + k] = words[from + k];
      return any !== 0;
    }
    const slot = this.sparse.find(position);
    if (slot === -1) return false;
    const words = this.sparse.hashWords();
    for (let k = 0; k < 8; k++) target[at + k] = words[slot * 8 + k];
    return true;
  }

  /** Stores 8 words from `source` at word `offset` under `position`. */
  setWords(position: number, source: Int32Array, offset = 0): void {
    if (position >= this.capacity && !this.growTo(position)) {
      this.sparse.setWords(position, source, offset);
      return;
    }
    const words = this.chunks[position >>> CHUNK_BITS];
    const at = (position & CHUNK_MASK) * 8;
    if ((words[at] | words[at + 1] | words[at + 2] | words[at + 3] | words[at + 4] | words[at + 5] | words[at + 6] | words[at + 7]) === 0)
      this.denseCount++;
    for (let k = 0; k < 8; k++) words[at + k] = source[offset + k];
  }

  /** Stores `hash` (32 bytes from `source` at `offset`) under `position`. */
  set(position: number, source: Uint8Array, offset = 0): void {
    const bytes = this.scratchBytes;
    for (let i = 0; i < 32; i++) bytes[i] = source[offset + i];
    this.setWords(position, this.scratch);
  }

  /** The dense part's chunks as bytes (views, in position order, `denseLength` nodes in all), for snapshots. */
  denseBytes(): Uint8Array[] {
    return this.chunks.map((chunk) => new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }

  /** The sparse part's entries (positions and 32-byte hashes), for snapshots. */
  sparseEntries(): { positions: Float64Array; hashes: Uint8Array } {
    return this.sparse.entries();
  }

  /** Makes the dense part `length` nodes long (a snapshot's) and fills it with `fill(bytes)` chunk by chunk, in order. */
  restoreDense(length: number, fill: (into: Uint8Array) => void): void {
    while (this.capacity < length) this.addCapacity();
    for (const chunk of this.denseBytes()) {
      fill(chunk);
      const words = new Int32Array(chunk.buffer, chunk.byteOffset, chunk.length / 4);
      for (let at = 0; at < words.length; at += 8)
        if (
          (words[at] | words[at + 1] | words[at + 2] | words[at + 3] | words[at + 4] | words[at + 5] | words[at + 6] | words[at + 7]) !==
          0
        )
          this.denseCount++;
    }
  }

  /**
   * Extends the dense part to cover `position` when it would stay at least half full (the next
   * positions of a sequential fill); sparse entries it now covers move into it. False: keep it sparse.
   */
  private growTo(position: number): boolean {
    if (position >= Math.max(FIRST_CHUNK, 2 * this.size) || position >= this.capacity + CHUNK) return false;
    const before = this.capacity;
    while (this.capacity <= position) this.addCapacity();
    if (this.sparse.size > 0) this.moveCovered(before);
    return true;
  }

  private addCapacity(): void {
    const first = this.chunks[0];
    if (first && first.length < CHUNK * 8) {
      const grown = new Int32Array(first.length * 2);
      grown.set(first);
      this.chunks[0] = grown;
    } else this.chunks.push(new Int32Array((this.chunks.length === 0 ? FIRST_CHUNK : CHUNK) * 8));
    this.capacity = this.chunks.length === 1 ? this.chunks[0].length / 8 : this.chunks.length * CHUNK;
  }

  /** Moves the sparse entries at positions [from, capacity) into the dense part. */
  private moveCovered(from: number): void {
    const { positions, hashes } = this.sparse.entries();
    const words = new Int32Array(hashes.buffer);
    this.sparse = new PositionTable(positions.length);
    for (let i = 0; i < positions.length; i++) {
      if (positions[i] >= from && positions[i] < this.capacity) this.setWords(positions[i], words, i * 8);
      else this.sparse.setWords(positions[i], words, i * 8);
    }
  }
}
