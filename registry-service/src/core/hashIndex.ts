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
