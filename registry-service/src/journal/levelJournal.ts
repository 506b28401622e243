import { Level } from "level";
import { JournalError, type BatchRecord, type Journal, type StoredEntry } from "./journal";

/** Version of what this driver writes; an older data directory is refused, not misread (6: journal format 5, locks carry grants). */
const STORE_FORMAT = 6;
/** classic-level (what `level` is on Node) honours `sync: true`; abstract-level's types omit it. */
const SYNCED = { sync: true } as Record<string, unknown>;
const key = (n: number) => n.toString(16).padStart(13, "0"); // sorts numerically up to 2^52

/**
 * The journal in LevelDB (the `level` package): one sublevel for entries, one for batch records,
 * one for the format. Every write is synced before it resolves.
 */
export class LevelJournal implements Journal {
  private readonly meta;
  private readonly journal;
  private readonly batchRecords;

  private constructor(private readonly db: Level<string, unknown>) {
    this.meta = db.sublevel<string, number>("meta", { valueEncoding: "json" });
    this.journal = db.sublevel<string, Uint8Array>("journal", { valueEncoding: "view" });
    this.batchRecords = db.sublevel<string, BatchRecord>("batches", { valueEncoding: "json" });
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
    for await (const batchKey of this.batchRecords.keys({ gt: key(change.after) }))
      dropped.push({ type: "del" as const, sublevel: this.batchRecords, key: batchKey });
    const struck = { type: "put" as const, sublevel: this.batchRecords, key: key(change.struck.batch), value: change.struck };
    await this.db.batch([...this.puts(change.entries), ...dropped, struck] as never, SYNCED);
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

  putBatch(record: BatchRecord): Promise<void> {
    return this.batchRecords.put(key(record.batch), record, SYNCED);
  }

  batch(batch: number): Promise<BatchRecord | undefined> {
    return this.batchRecords.get(key(batch));
  }

  async *batches(options: { before?: number; limit: number }): AsyncIterable<BatchRecord> {
    const range = options.before === undefined ? {} : { lt: key(options.before) };
    yield* this.batchRecords.values({ ...range, reverse: true, limit: options.limit });
  }

  async latestBatch(): Promise<BatchRecord | undefined> {
    for await (const record of this.batchRecords.values({ reverse: true, limit: 1 })) return record;
    return undefined;
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
