import { bytesEqual, decodeRecord, RECORD_LENGTH, readUint, Status, type RecordTable, type StatusRecord } from "../core";

const STATUS_OFFSET = 72;
const BATCH_OFFSET = 74;

/**
 * The records as of the latest anchored batch, without a second table: intake's current records,
 * except where a change not yet anchored overwrote one (its anchored bytes are kept aside until
 * that change is anchored too), and only below the anchored size (issuances are indexed in
 * acceptance order and anchored in batch order, so the indexes issued in anchored batches are
 * exactly 0 .. size - 1). Memory follows the changes in flight, not the registry: at 52 million
 * credentials a second table would be 4.3 GB.
 */
export class AnchoredRecords {
  /** anchored bytes of indexes whose current record is a later, unanchored change */
  private readonly older = new Map<number, Uint8Array>();
  private end = 0;

  constructor(private readonly current: RecordTable) {}

  /** Indexes issued as of the anchored batch. */
  get size(): number {
    return this.end;
  }

  /** Changes in flight that overwrote an anchored record (what this costs beyond the current table). */
  get pendingOverwrites(): number {
    return this.older.size;
  }

  raw(index: number): Uint8Array | undefined {
    if (!(index >= 0 && index < this.end)) return undefined;
    return this.older.get(index) ?? this.current.raw(index);
  }

  get(index: number): StatusRecord | undefined {
    const raw = this.raw(index);
    return raw && decodeRecord(raw);
  }

  status(index: number): Status {
    return this.raw(index)?.[STATUS_OFFSET] ?? Status.None;
  }

  /** Called before intake's current record of `index` is overwritten by a change not yet anchored. */
  beforeOverwrite(index: number): void {
    if (index >= this.end || this.older.has(index)) return; // not anchored yet, or its anchored bytes are kept already
    const raw = this.current.raw(index);
    if (raw) this.older.set(index, raw.slice());
  }

  /** `raw` (a record of the batch now anchored) is the anchored record of its index. */
  setRaw(index: number, raw: Uint8Array): void {
    if (raw.length !== RECORD_LENGTH) throw new Error(`a status record is ${RECORD_LENGTH} bytes, got ${raw.length}`);
    this.end = Math.max(this.end, index + 1);
    const current = this.current.raw(index);
    if (current && bytesEqual(current, raw)) this.older.delete(index);
    else this.older.set(index, raw.slice());
  }

  /** Counts `index` as anchored where intake's current record is the anchored one (rebuilding from the journal). */
  anchoredAsIs(index: number): void {
    this.end = Math.max(this.end, index + 1);
  }

  /** The anchored bytes kept aside, by index (the live map, not a copy), for a checkpoint to write. */
  keptAside(): ReadonlyMap<number, Uint8Array> {
    return this.older;
  }

  /** Takes a checkpoint's anchored size and kept-aside bytes, over the current records it was written with. */
  restore(size: number, kept: Iterable<[number, Uint8Array]>): void {
    this.end = size;
    this.older.clear();
    for (const [index, raw] of kept) this.older.set(index, raw);
  }

  /** Indexes of the anchored records last changed after batch `changedAfter` (default: all), ascending. */
  *indexes(changedAfter = 0): Generator<number> {
    for (let index = 0; index < this.end; index++) {
      const raw = this.raw(index);
      if (raw && readUint(raw, BATCH_OFFSET, 8) > changedAfter) yield index;
    }
  }
}
