/**
 * Open-addressing hash table from a node position (an integer below 2^53) to a 32-byte hash,
 * on typed arrays: about 44 bytes per entry at most, no per-entry objects for the GC to walk.
 *
 * Placement: a position below the capacity goes to the slot of the same number, so the dense runs
 * that sequential index allocation produces never collide and are walked in memory order; the bits
 * above the capacity are mixed in by a multiplicative hash, so strided or sparse positions spread.
 * (An earlier placement that scattered 4,096-position blocks made the runs overlap and merge into
 * huge probe clusters: a 1M build never finished.)
 */
export class PositionTable {
  private keys: Float64Array;
  private hashes: Uint8Array;
  private words: Int32Array;
  private mask: number;
  private bits: number;
  private count = 0;

  constructor(expected = 16) {
    const capacity = PositionTable.capacityFor(expected);
    this.keys = new Float64Array(capacity).fill(-1);
    this.hashes = new Uint8Array(capacity * 32);
    this.words = new Int32Array(this.hashes.buffer);
    this.mask = capacity - 1;
    this.bits = Math.log2(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Bytes held by the table's arrays (keys and hashes, including free slots). */
  get memoryBytes(): number {
    return this.keys.byteLength + this.hashes.byteLength;
  }

  /** Slot of `position`, or -1. The hash is `hashWords()[slot*8 .. slot*8+8)`. */
  find(position: number): number {
    const keys = this.keys;
    let slot = this.home(position);
    for (;;) {
      const key = keys[slot];
      if (key === position) return slot;
      if (key === -1) return -1;
      slot = (slot + 1) & this.mask;
    }
  }

  /** The same storage as 32-bit words (8 per hash), for word-wise copies in hot loops. */
  hashWords(): Int32Array {
    return this.words;
  }

  /** Stores `hash` (32 bytes from `source` at `offset`) under `position`. */
  set(position: number, source: Uint8Array, offset = 0): void {
    const at = this.claim(position) * 32;
    const hashes = this.hashes;
    for (let i = 0; i < 32; i++) hashes[at + i] = source[offset + i];
  }

  /** Stores 8 words from `source` at word `offset` under `position` (the fast path: docs/performance.md). */
  setWords(position: number, source: Int32Array, offset = 0): void {
    const at = this.claim(position) * 8;
    const words = this.words;
    for (let k = 0; k < 8; k++) words[at + k] = source[offset + k];
  }

  /** Slot of `position`, inserting it if absent (the table may grow: re-read hashWords after). */
  private claim(position: number): number {
    if ((this.count + 1) * 10 > this.keys.length * 7) this.grow();
    const keys = this.keys;
    let slot = this.home(position);
    for (;;) {
      const key = keys[slot];
      if (key === position) return slot;
      if (key === -1) {
        keys[slot] = position;
        this.count++;
        return slot;
      }
      slot = (slot + 1) & this.mask;
    }
  }

  /** Every entry, as parallel arrays of positions and 32-byte hashes (for snapshots). */
  entries(): { positions: Float64Array; hashes: Uint8Array } {
    const positions = new Float64Array(this.count);
    const out = new Int32Array(this.count * 8);
    const { keys, words } = this;
    let n = 0;
    for (let slot = 0; slot < keys.length; slot++) {
      if (keys[slot] === -1) continue;
      positions[n] = keys[slot];
      for (let k = 0; k < 8; k++) out[n * 8 + k] = words[slot * 8 + k];
      n++;
    }
    return { positions, hashes: new Uint8Array(out.buffer) };
  }

  private home(position: number): number {
    const low = position % 4294967296;
    const high = (position - low) / 4294967296;
    const above = (low >>> this.bits) ^ Math.imul(high, 0x85ebca6b);
    return (low ^ Math.imul(above, 0x9e3779b1)) & this.mask;
  }

  private grow(): void {
    const { keys, hashes } = this;
    const capacity = keys.length * 2;
    this.keys = new Float64Array(capacity).fill(-1);
    this.hashes = new Uint8Array(capacity * 32);
    this.words = new Int32Array(this.hashes.buffer);
    this.mask = capacity - 1;
    this.bits = Math.log2(capacity);
    this.count = 0;
    for (let slot = 0; slot < keys.length; slot++) if (keys[slot] !== -1) this.set(keys[slot], hashes, slot * 32);
  }

  private static capacityFor(expected: number): number {
    let capacity = 16;
    while (capacity * 7 < expected * 10) capacity *= 2;
    return capacity;
  }
}
