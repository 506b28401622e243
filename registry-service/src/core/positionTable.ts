/**
 * Open-addressing hash table from a node position (an integer below 2^53) to a 32-byte hash,
 * on typed arrays: about 44 bytes per entry at most, no per-entry objects for the GC to walk.
 *
 * Placement keeps runs of consecutive positions in consecutive slots (status indexes are handed out
 * in order, so building and updating walks memory sequentially) while blocks of 4096 positions are
 * scattered by a multiplicative hash, so strided or sparse positions do not cluster.
 */
export class PositionTable {
  private keys: Float64Array;
  private hashes: Uint8Array;
  private mask: number;
  private count = 0;

  constructor(expected = 16) {
    const capacity = PositionTable.capacityFor(expected);
    this.keys = new Float64Array(capacity).fill(-1);
    this.hashes = new Uint8Array(capacity * 32);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Slot of `position`, or -1. The hash is `hashBytes()[slot*32 .. slot*32+32)`. */
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

  hashBytes(): Uint8Array {
    return this.hashes;
  }

  /** Stores `hash` (32 bytes from `source` at `offset`) under `position`. */
  set(position: number, source: Uint8Array, offset = 0): void {
    if ((this.count + 1) * 10 > this.keys.length * 7) this.grow();
    const keys = this.keys;
    let slot = this.home(position);
    for (;;) {
      const key = keys[slot];
      if (key === position) break;
      if (key === -1) {
        keys[slot] = position;
        this.count++;
        break;
      }
      slot = (slot + 1) & this.mask;
    }
    const at = slot * 32;
    const hashes = this.hashes;
    for (let i = 0; i < 32; i++) hashes[at + i] = source[offset + i];
  }

  /** Every entry, as parallel arrays of positions and 32-byte hashes (for snapshots). */
  entries(): { positions: Float64Array; hashes: Uint8Array } {
    const positions = new Float64Array(this.count);
    const hashes = new Uint8Array(this.count * 32);
    let n = 0;
    for (let slot = 0; slot < this.keys.length; slot++) {
      if (this.keys[slot] === -1) continue;
      positions[n] = this.keys[slot];
      hashes.set(this.hashes.subarray(slot * 32, slot * 32 + 32), n * 32);
      n++;
    }
    return { positions, hashes };
  }

  private home(position: number): number {
    const low = position % 4294967296;
    const high = (position - low) / 4294967296;
    return (low + Math.imul((low >>> 12) ^ high, 0x9e3779b1)) & this.mask;
  }

  private grow(): void {
    const { keys, hashes } = this;
    const capacity = keys.length * 2;
    this.keys = new Float64Array(capacity).fill(-1);
    this.hashes = new Uint8Array(capacity * 32);
    this.mask = capacity - 1;
    this.count = 0;
    for (let slot = 0; slot < keys.length; slot++) if (keys[slot] !== -1) this.set(keys[slot], hashes, slot * 32);
  }

  private static capacityFor(expected: number): number {
    let capacity = 16;
    while (capacity * 7 < expected * 10) capacity *= 2;
    return capacity;
  }
}
