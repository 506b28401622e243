import { readUint } from "./bytes";
import { CoreError } from "./errors";
import { RECORD_LENGTH, Status, decodeRecord, encodeRecord, type StatusRecord } from "./record";

const STATUS_OFFSET = 72;
const BATCH_OFFSET = 74;

/**
 * Records by status index in one growable byte array, 82 bytes a slot in their canonical encoding:
 * a million records cost 82 MB and no per-record objects for the garbage collector to trace.
 * Indexes are handed out sequentially, so the array is dense. An unused slot reads as undefined.
 */
export class RecordTable {
  private bytes = new Uint8Array(RECORD_LENGTH * 1024);
  /** one past the highest index ever set */
  private end = 0;

  get size(): number {
    return this.end;
  }

  get(index: number): StatusRecord | undefined {
    const raw = this.raw(index);
    return raw && decodeRecord(raw);
  }

  /** The record's canonical bytes (a view: copy before keeping it), or undefined for an unused slot. */
  raw(index: number): Uint8Array | undefined {
    if (!Number.isInteger(index) || index < 0 || index >= this.end) return undefined;
    const at = index * RECORD_LENGTH;
    return this.bytes[at + STATUS_OFFSET] === Status.None ? undefined : this.bytes.subarray(at, at + RECORD_LENGTH);
  }

  /** The status of a slot (NONE when unused), without decoding its record. */
  status(index: number): Status {
    if (!Number.isInteger(index) || index < 0 || index >= this.end) return Status.None;
    return this.bytes[index * RECORD_LENGTH + STATUS_OFFSET];
  }

  set(record: StatusRecord): void {
    this.setRaw(record.index, encodeRecord(record));
  }

  /** Stores canonical record bytes (as encodeRecord makes them) at `index`. */
  setRaw(index: number, raw: Uint8Array): void {
    if (raw.length !== RECORD_LENGTH)
      throw new CoreError("MALFORMED_BYTES", `a status record is ${RECORD_LENGTH} bytes, got ${raw.length}`);
    if (!Number.isSafeInteger(index) || index < 0) throw new CoreError("INVALID_FIELD", `index ${index} is not a non-negative integer`);
    const needed = (index + 1) * RECORD_LENGTH;
    if (needed > this.bytes.length) {
      const grown = new Uint8Array(Math.max(needed, this.bytes.length * 2));
      grown.set(this.bytes.subarray(0, this.end * RECORD_LENGTH));
      this.bytes = grown;
    }
    this.bytes.set(raw, index * RECORD_LENGTH);
    this.end = Math.max(this.end, index + 1);
  }

  /** Indexes of the used slots whose record was last changed after batch `changedAfter` (default: all), ascending. */
  *indexes(changedAfter = 0): Generator<number> {
    for (let index = 0; index < this.end; index++) {
      const at = index * RECORD_LENGTH;
      if (this.bytes[at + STATUS_OFFSET] !== Status.None && readUint(this.bytes, at + BATCH_OFFSET, 8) > changedAfter) yield index;
    }
  }
}
