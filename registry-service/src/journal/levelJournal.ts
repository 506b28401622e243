import { Level } from "level";
import { bytesToHex, hexToBytes } from "../core";
import { JournalError, type BatchRecord, type Journal, type StoredEntry } from "./journal";

/**
 * Version of what this driver writes; an older data directory is refused, not misread (6: journal
 * format 5, locks carry grants; 7: a batch's event data in bytes beside its record, written once).
 */
const STORE_FORMAT = 7;

/** A batch record as stored: all but its event data, which is stored once, in bytes, under the same key. */
type BatchHeader = Omit<BatchRecord, "eventData"> & { eventDataLength: number };
/** classic-level (what `level` is on Node) honours `sync: true`; abstract-level's types omit it. */
const SYNCED = { sync: true } as Record<string, unknown>;
const key = (n: number) => n.toString(16).padStart(13, "0"); // sorts numerically up to 2^52

/**
 * The journal in LevelDB (the `level` package): one sublevel for entries, one for batch records
 * (without their event data), one for the batches' event data in bytes, one for the format. Every
 * write is synced before it resolves. A record that replaces one with the same event data (a batch
 * recorded anchored after it was prepared) writes only the record: the data is written once.
 */
export class LevelJournal implements Journal {
  private readonly meta;
  private readonly journal;
  private readonly batchRecords;
  private readonly batchData;

  private constructor(private readonly db: Level<string, unknown>) {
    this.meta = db.sublevel<string, number>("meta", { valueEncoding: "json" });
    this.journal = db.sublevel<string, Uint8Array>("journal", { valueEncoding: "view" });
    this.batchRecords = db.sublevel<string, BatchHeader>("batches", { valueEncoding: "json" });
    this.batchData = db.sublevel<string, Uint8Array>("batchData", { valueEncoding: "view" });
  }

  static async open(location: string): Promise<LevelJournal> {
    const db = new Level<string, unknown>(location, { valueEncoding: "json" });
    await db.open();
    const journal = new LevelJournal(db);
    try {
      await journal.checkFormat();
    } catch (error) {
      await db.close();
      throw error;
    }
    return journal;
  }

  private async checkFormat(): Promise<void> {
    const format = await this.meta.get("format");
    if (format === undefined && (await this.meta.get("nextSeq")) !== undefined) {
      throw new JournalError(
        "UNREADABLE_DATA",
        "the data directory was written by an earlier version (JSON journal); start with an empty DATA_DIR",
      );
    }
    if (format !== undefined && format !== STORE_FORMAT) {
      throw new JournalError("UNREADABLE_DATA", `the data directory has format ${format}; this service reads format ${STORE_FORMAT}`);
    }
    if (format === undefined) await this.meta.put("format", STORE_FORMAT, SYNCED);
  }

  async append(entries: readonly StoredEntry[]): Promise<void> {
    await this.db.batch(this.puts(entries) as never, SYNCED);
  }

  private puts(entries: readonly StoredEntry[]) {
    return entries.map(({ seq, bytes }) => ({ type: "put" as const, sublevel: this.journal, key: key(seq), value: bytes }));
  }

  async rebase(change: { entries: readonly StoredEntry[]; after: number; struck: BatchRecord }): Promise<void> {
    const dropped = [];
    for await (const batchKey of this.batchRecords.keys({ gt: key(change.after) })) {
      dropped.push({ type: "del" as const, sublevel: this.batchRecords, key: batchKey });
      dropped.push({ type: "del" as const, sublevel: this.batchData, key: batchKey });
    }
    await this.db.batch([...this.puts(change.entries), ...dropped, ...this.recordPuts(change.struck, true)] as never, SYNCED);
  }

  async *entries(range: { from?: number; to?: number } = {}): AsyncIterable<StoredEntry> {
    const bounds = {
      ...(range.from === undefined ? {} : { gte: key(range.from) }),
      ...(range.to === undefined ? {} : { lt: key(range.to) }),
    };
    for await (const [seqKey, bytes] of this.journal.iterator(bounds)) yield { seq: parseInt(seqKey, 16), bytes };
  }

  entry(seq: number): Promise<Uint8Array | undefined> {
    return this.journal.get(key(seq));
  }

  async putBatch(record: BatchRecord): Promise<void> {
    const stored = await this.batchRecords.get(key(record.batch));
    const sameData = stored?.eventDataHash === record.eventDataHash && stored.eventDataLength === (record.eventData.length - 2) / 2;
    await this.db.batch(this.recordPuts(record, !sameData) as never, SYNCED);
  }

  /** The puts of a record: its header, and its event data in bytes when `withData`. */
  private recordPuts(record: BatchRecord, withData: boolean) {
    const { eventData, ...rest } = record;
    const data = hexToBytes(eventData);
    const header: BatchHeader = { ...rest, eventDataLength: data.length };
    const puts: { type: "put"; sublevel: unknown; key: string; value: unknown }[] = [
      { type: "put", sublevel: this.batchRecords, key: key(record.batch), value: header },
    ];
    if (withData) puts.push({ type: "put", sublevel: this.batchData, key: key(record.batch), value: data });
    return puts;
  }

  /** The whole record: the header with its event data. */
  private async withData(header: BatchHeader | undefined): Promise<BatchRecord | undefined> {
    if (!header) return undefined;
    const { eventDataLength: _length, ...rest } = header;
    const data = await this.batchData.get(key(header.batch));
    if (!data) throw new JournalError("UNREADABLE_DATA", `batch ${header.batch}'s event data is missing`);
    return { ...rest, eventData: bytesToHex(data) };
  }

  async batch(batch: number): Promise<BatchRecord | undefined> {
    return this.withData(await this.batchRecords.get(key(batch)));
  }

  async *batches(options: { before?: number; limit: number }): AsyncIterable<BatchRecord> {
    const range = options.before === undefined ? {} : { lt: key(options.before) };
    for await (const header of this.batchRecords.values({ ...range, reverse: true, limit: options.limit }))
      yield (await this.withData(header))!;
  }

  async latestBatch(): Promise<BatchRecord | undefined> {
    for await (const header of this.batchRecords.values({ reverse: true, limit: 1 })) return this.withData(header);
    return undefined;
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
