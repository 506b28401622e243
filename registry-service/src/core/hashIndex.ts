import { hexToBytes, type Hex } from "./bytes";
import { CoreError } from "./errors";

/**
 * A map from 32-byte keys (device-key hashes, holder references: keccak outputs, never zero) to
 * status indexes, on typed arrays: 36 bytes a slot, filled to at most three quarters, and no
 * per-entry objects (docs/performance.md, "Why the code is shaped this way"). Open addressing, linear probing,
 * the home slot taken from the key's first word mixed with a per-table random seed.
 */
export class HashIndex {
  private keys: Int32Array;
  private values: Uint32Array;
  private mask: number;
  private shift: number;
  private count = 0;
  private readonly seed = (Math.random() * 2 ** 32) | 0;
  private readonly scratch = new Int32Array(8);
  private readonly scratchBytes = new Uint8Array(this.scratch.buffer);

  constructor(expected = 1024) {
    let capacity = 1024;
    while (capacity * 0.75 < expected) capacity *= 2;
    this.keys = new Int32Array(capacity * 8);
    this.values = new Uint32Array(capacity);
    this.mask = capacity - 1;
    this.shift = 32 - Math.log2(capacity);
  }

  get size(): number {
    return this.count;
  }

  get(key: Hex | Uint8Array): number | undefined {
    const slot = this.find(this.load(key));
    return slot < 0 ? undefined : this.values[slot];
  }

  set(key: Hex | Uint8Array, value: number): void {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff)
      throw new CoreError("INVALID_FIELD", `value ${value} is not a 32-bit unsigned integer`);
    const words = this.load(key);
    if (words.every((word) => word === 0)) throw new CoreError("INVALID_FIELD", "a zero key cannot be stored");
    let slot = this.find(words);
    if (slot < 0) {
      if (this.count + 1 > (this.mask + 1) * 0.75) {
        this.grow();
        slot = this.find(words);
      }
      slot = ~slot;
      this.keys.set(words, slot * 8);
      this.count++;
    }
    this.values[slot] = value;
  }

  /** The key as 8 words in the scratch buffer. */
  private load(key: Hex | Uint8Array): Int32Array {
    const bytes = typeof key === "string" ? hexToBytes(key, 32, "key") : key;
    if (bytes.length !== 32) throw new CoreError("INVALID_FIELD", `a key is 32 bytes, got ${bytes.length}`);
    this.scratchBytes.set(bytes);
    return this.scratch;
  }

  /** The slot holding `words`, or ~(the free slot where it would go). */
  // eslint-disable-next-line complexity -- the 8-word compares are unrolled: this probe runs for every binding looked up
  private find(words: Int32Array): number {
    const keys = this.keys;
    let slot = Math.imul(words[0] ^ this.seed, 0x9e3779b1) >>> this.shift;
    for (;;) {
      const at = slot * 8;
      if (
        keys[at] === 0 &&
        keys[at + 1] === 0 &&
        keys[at + 2] === 0 &&
        keys[at + 3] === 0 &&
        keys[at + 4] === 0 &&
        keys[at + 5] === 0 &&
        keys[at + 6] === 0 &&
        keys[at + 7] === 0
      )
        return ~slot;
      if (
        keys[at] === words[0] &&
        keys[at + 1] === words[1] &&
        keys[at + 2] === words[2] &&
        keys[at + 3] === words[3] &&
        keys[at + 4] === words[4] &&
        keys[at + 5] === words[5] &&
        keys[at + 6] === words[6] &&
        keys[at + 7] === words[7]
      ) {
        return slot;
      }
      slot = (slot + 1) & this.mask;
    }
  }

  private grow(): void {
    const [keys, values] = [this.keys, this.values];
    const capacity = (this.mask + 1) * 2;
    this.keys = new Int32Array(capacity * 8);
    this.values = new Uint32Array(capacity);
    this.mask = capacity - 1;
    this.shift = 32 - Math.log2(capacity);
    const words = new Int32Array(8);
    for (let slot = 0; slot < values.length; slot++) {
      const at = slot * 8;
      let used = false;
      for (let k = 0; k < 8; k++) {
        words[k] = keys[at + k];
        if (words[k] !== 0) used = true;
      }
      if (!used) continue;
      const free = ~this.find(words);
      this.keys.set(words, free * 8);
      this.values[free] = values[slot];
    }
  }
}

/** Where a RecordKeyIndex reads its keys: whether the record at `value` carries `key` (32 bytes). */
export type KeyCheck = (value: number, key: Uint8Array) => boolean;

/** A 32-bit mix of all 32 bytes of a key from `at`: keys that share words (not keccak outputs) still spread. */
export function keyMix(bytes: Uint8Array, at = 0): number {
  let h = 0x811c9dc5;
  for (let k = 0; k < 32; k += 4) {
    const word = (bytes[at + k] << 24) | (bytes[at + k + 1] << 16) | (bytes[at + k + 2] << 8) | bytes[at + k + 3];
    h = Math.imul(h ^ word, 0x9e3779b1);
    h ^= h >>> 15;
  }
  return h;
}

/** A RecordKeyIndex's slots (value + 1 each, 0 free) and the seed that placed them, as they are in memory. */
export interface SavedKeyIndex {
  seed: number;
  count: number;
  slots: Uint32Array;
}

/** Old slots re-placed per set() while a RecordKeyIndex grows: enough to finish long before the new slots are 3/4 full (see grow). */
const MOVE_STEP = 8;

/**
 * A HashIndex that stores no keys: 4 bytes a slot instead of 36. For bindings whose key is part of
 * the record the value names (a device binding: the record at the bound index carries that device's
 * key hash, and a record's device never changes), the key is checked against the record itself
 * (`matches`) while probing; the home slot comes from a mix of the whole key. At 52 million devices
 * this is 512 MB instead of 4.8 GB. The key's record must be stored before set() is called.
 *
 * It grows a step at a time, as Redis's dictionaries do: doubling at once re-placed every key in
 * one call, 50 million of them at national scale (each one a read of its record), and froze the
 * service's event loop for over 30 s (docs/performance.md, "National scale, measured at 52M").
 */
export class RecordKeyIndex {
  /** value + 1 per slot; 0 is free */
  private slots: Uint32Array;
  private mask: number;
  private shift: number;
  private count = 0;
  private seed = (Math.random() * 2 ** 32) | 0;
  /**
   * While growing, the slots before the last doubling: a key lives in `slots`, or in `previous` at a
   * slot not yet moved (>= `moved`); moved ones stay in place so that probe runs stay whole.
   */
  private previous?: Uint32Array;
  private moved = 0;

  constructor(
    private readonly matches: KeyCheck,
    /** keyMix of the key of the record at `value` (for re-placing slots as the table grows) */
    private readonly mixOf: (value: number) => number,
    expected = 1024,
  ) {
    let capacity = 1024;
    while (capacity * 0.75 < expected) capacity *= 2;
    this.slots = new Uint32Array(capacity);
    this.mask = capacity - 1;
    this.shift = 32 - Math.log2(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Bytes held by the slots (both generations while growing). */
  get memoryBytes(): number {
    return this.slots.byteLength + (this.previous?.byteLength ?? 0);
  }

  /** True while keys of the previous generation wait to be moved. */
  get growing(): boolean {
    return this.previous !== undefined;
  }

  /** The slots and their seed (a view, not a copy), for a checkpoint to write; a growth under way is finished first. */
  saved(): SavedKeyIndex {
    this.moveSome(Infinity);
    return { seed: this.seed, count: this.count, slots: this.slots };
  }

  /**
   * Takes `saved` (what saved() gave for an index over the same records) as this index: the same
   * bindings in the same slots, without one probe per key. INVALID_SNAPSHOT when the slots cannot
   * be an index's (a size that is not a power of two, a count that does not match them).
   */
  restore(saved: SavedKeyIndex): void {
    const { seed, count, slots } = saved;
    const capacity = slots.length;
    if (capacity < 1024 || (capacity & (capacity - 1)) !== 0 || !Number.isInteger(seed))
      throw new CoreError("INVALID_SNAPSHOT", `a key index of ${capacity} slots (seed ${seed})`);
    let used = 0;
    for (let slot = 0; slot < capacity; slot++) if (slots[slot] !== 0) used++;
    if (used !== count || count > capacity * 0.75)
      throw new CoreError("INVALID_SNAPSHOT", `a key index of ${count} keys has ${used} used slots`);
    this.slots = slots;
    this.previous = undefined;
    this.seed = seed | 0;
    this.count = count;
    this.mask = capacity - 1;
    this.shift = 32 - Math.log2(capacity);
  }

  get(key: Hex | Uint8Array): number | undefined {
    const bytes = keyBytes(key);
    const slot = this.find(bytes);
    if (slot >= 0) return this.slots[slot] - 1;
    const earlier = this.findNotMoved(bytes);
    return earlier < 0 ? undefined : this.previous![earlier] - 1;
  }

  set(key: Hex | Uint8Array, value: number): void {
    if (!Number.isInteger(value) || value < 0 || value >= 0xffffffff)
      throw new CoreError("INVALID_FIELD", `value ${value} is not a 32-bit unsigned integer below 2^32 - 1`);
    const bytes = keyBytes(key);
    if (!this.matches(value, bytes)) throw new CoreError("INVALID_FIELD", `the record at ${value} does not carry this key`);
    let slot = this.find(bytes);
    const earlier = slot < 0 ? this.findNotMoved(bytes) : -1;
    if (earlier >= 0)
      this.previous![earlier] = value + 1; // rebound where it is: it moves with its slot
    else {
      if (slot < 0) {
        if (this.count + 1 > (this.mask + 1) * 0.75) {
          this.grow();
          slot = this.find(bytes);
        }
        slot = ~slot;
        this.count++;
      }
      this.slots[slot] = value + 1;
    }
    this.moveSome(MOVE_STEP);
  }

  private home(mix: number, shift = this.shift): number {
    return Math.imul(mix ^ this.seed, 0x9e3779b1) >>> shift;
  }

  /** The slot whose record carries `key`, or ~(the free slot where it would go). */
  private find(key: Uint8Array): number {
    let slot = this.home(keyMix(key));
    for (;;) {
      const stored = this.slots[slot];
      if (stored === 0) return ~slot;
      if (this.matches(stored - 1, key)) return slot;
      slot = (slot + 1) & this.mask;
    }
  }

  /** The slot of `key` in the previous generation if it is there and not yet moved, else -1. */
  private findNotMoved(key: Uint8Array): number {
    const previous = this.previous;
    if (!previous) return -1;
    const mask = previous.length - 1;
    let slot = this.home(keyMix(key), 32 - Math.log2(previous.length));
    for (;;) {
      const stored = previous[slot];
      if (stored === 0) return -1;
      if (this.matches(stored - 1, key)) return slot >= this.moved ? slot : -1;
      slot = (slot + 1) & mask;
    }
  }

  /**
   * Doubles the slots; their keys move MOVE_STEP slots per set(). Growth starts at 3/4 of C slots
   * and the next at 3/4 of 2C: at least 3C/4 sets later, by when 6C slots would have moved, of C.
   */
  private grow(): void {
    this.moveSome(Infinity); // never left by the arithmetic above; kept as the invariant
    this.previous = this.slots;
    this.moved = 0;
    this.slots = new Uint32Array(this.previous.length * 2);
    this.mask = this.slots.length - 1;
    this.shift = 32 - Math.log2(this.slots.length);
  }

  /** Moves the keys of the next `count` slots of the previous generation into the current one. */
  private moveSome(count: number): void {
    const previous = this.previous;
    if (!previous) return;
    const end = Math.min(previous.length, this.moved + count);
    for (let at = this.moved; at < end; at++) {
      const stored = previous[at];
      if (stored === 0) continue;
      let slot = this.home(this.mixOf(stored - 1));
      while (this.slots[slot] !== 0) slot = (slot + 1) & this.mask;
      this.slots[slot] = stored;
    }
    this.moved = end;
    if (end === previous.length) this.previous = undefined;
  }
}

function keyBytes(key: Hex | Uint8Array): Uint8Array {
  const bytes = typeof key === "string" ? hexToBytes(key, 32, "key") : key;
  if (bytes.length !== 32) throw new CoreError("INVALID_FIELD", `a key is 32 bytes, got ${bytes.length}`);
  return bytes;
}
