import { readUint } from "./bytes";
import { CoreError } from "./errors";
import { keyMix, RecordKeyIndex } from "./hashIndex";
import { RECORD_DEVICE_AT, RECORD_LENGTH, Status, decodeRecord, encodeRecord, type StatusRecord } from "./record";

const STATUS_OFFSET = 72;
const BATCH_OFFSET = 74;
/** Records per chunk (5.4 MB): the table grows a chunk at a time, never copied, never twice its size. */
const CHUNK = 1 << 16;

/**
 * Records by status index in byte chunks, 82 bytes a slot in their canonical encoding: a million
 * records cost 82 MB and no per-record objects for the garbage collector to trace, and 52 million
 * cost 4.3 GB with no slack (the chunks are allocated as indexes reach them; an index far beyond
 * the others allocates the chunks up to it). Indexes are handed out sequentially, so the table is
 * dense. An unused slot reads as undefined.
 */
export class RecordTable {
  private chunks: Uint8Array[] = [];
  /** one past the highest index ever set */
  private end = 0;

  get size(): number {
    return this.end;
  }

  /** Bytes held by the chunks. */
  get memoryBytes(): number {
    return this.chunks.length * CHUNK * RECORD_LENGTH;
  }

  get(index: number): StatusRecord | undefined {
    const raw = this.raw(index);
    return raw && decodeRecord(raw);
  }

  /** The record's canonical bytes (a view: copy before keeping it), or undefined for an unused slot. */
  raw(index: number): Uint8Array | undefined {
    if (!Number.isInteger(index) || index < 0 || index >= this.end) return undefined;
    const chunk = this.chunks[Math.floor(index / CHUNK)];
    const at = (index % CHUNK) * RECORD_LENGTH;
    return chunk[at + STATUS_OFFSET] === Status.None ? undefined : chunk.subarray(at, at + RECORD_LENGTH);
  }

  /** The status of a slot (NONE when unused), without decoding its record. */
  status(index: number): Status {
    if (!Number.isInteger(index) || index < 0 || index >= this.end) return Status.None;
    return this.chunks[Math.floor(index / CHUNK)][(index % CHUNK) * RECORD_LENGTH + STATUS_OFFSET];
  }

  set(record: StatusRecord): void {
    this.setRaw(record.index, encodeRecord(record));
  }

  /** Stores canonical record bytes (as encodeRecord makes them) at `index`. */
  setRaw(index: number, raw: Uint8Array): void {
    if (raw.length !== RECORD_LENGTH)
      throw new CoreError("MALFORMED_BYTES", `a status record is ${RECORD_LENGTH} bytes, got ${raw.length}`);
    if (!Number.isSafeInteger(index) || index < 0) throw new CoreError("INVALID_FIELD", `index ${index} is not a non-negative integer`);
    while (this.chunks.length <= Math.floor(index / CHUNK)) this.chunks.push(new Uint8Array(CHUNK * RECORD_LENGTH));
    this.chunks[Math.floor(index / CHUNK)].set(raw, (index % CHUNK) * RECORD_LENGTH);
    this.end = Math.max(this.end, index + 1);
  }

  /** Whether the record at `index` carries `bytes` at `offset` (compared in place: no view, no copy). */
  fieldEquals(index: number, offset: number, bytes: Uint8Array): boolean {
    if (!(index >= 0 && index < this.end)) return false;
    const chunk = this.chunks[Math.floor(index / CHUNK)];
    const at = (index % CHUNK) * RECORD_LENGTH + offset;
    if (chunk[at + STATUS_OFFSET - offset] === Status.None) return false;
    for (let i = 0; i < bytes.length; i++) if (chunk[at + i] !== bytes[i]) return false;
    return true;
  }

  /** keyMix of the 32 bytes at `offset` of the record at `index` (0 for an unused slot), read in place. */
  keyMixAt(index: number, offset: number): number {
    if (!(index >= 0 && index < this.end)) return 0;
    return keyMix(this.chunks[Math.floor(index / CHUNK)], (index % CHUNK) * RECORD_LENGTH + offset);
  }

  /**
   * An index from device key hash to the index bound to it, whose keys are read from this table's
   * records (a record's device never changes): 4 bytes a slot instead of a stored key's 36.
   */
  deviceIndex(): RecordKeyIndex {
    return new RecordKeyIndex(
      (index, device) => this.fieldEquals(index, RECORD_DEVICE_AT, device),
      (index) => this.keyMixAt(index, RECORD_DEVICE_AT),
    );
  }

  /** The chunks as they are in memory (views, in index order; `size` slots in all), for a checkpoint to write. */
  chunkBytes(): readonly Uint8Array[] {
    return this.chunks;
  }

  /** Bytes the chunks of a table `size` slots long hold (what chunkBytes() gives for it). */
  static chunkedBytes(size: number): number {
    return Math.ceil(size / CHUNK) * CHUNK * RECORD_LENGTH;
  }

  /**
   * Makes this empty table `size` slots long and returns its chunks, zeroed, for the caller to fill
   * in order with what chunkBytes() gave: a checkpoint read back straight into the table.
   */
  restoreChunks(size: number): Uint8Array[] {
    if (this.end !== 0 || this.chunks.length !== 0) throw new CoreError("INVALID_SNAPSHOT", "only an empty record table is restored");
    if (!Number.isSafeInteger(size) || size < 0) throw new CoreError("INVALID_SNAPSHOT", `a record table of ${size} slots`);
    this.chunks = Array.from({ length: Math.ceil(size / CHUNK) }, () => new Uint8Array(CHUNK * RECORD_LENGTH));
    this.end = size;
    return this.chunks;
  }

  /** Indexes of the used slots whose record was last changed after batch `changedAfter` (default: all), ascending. */
  *indexes(changedAfter = 0): Generator<number> {
    for (let index = 0; index < this.end; index++) {
      const chunk = this.chunks[Math.floor(index / CHUNK)];
      const at = (index % CHUNK) * RECORD_LENGTH;
      if (chunk[at + STATUS_OFFSET] !== Status.None && readUint(chunk, at + BATCH_OFFSET, 8) > changedAfter) yield index;
    }
  }
}
