import type { BatchRecord, Journal, StoredEntry } from "./journal";

/**
 * A journal in memory, for tests and tools: the same contract as LevelJournal (the conformance
 * suite runs on both) without durability. Stored values are copied in and out, as a disk would.
 */
export class MemoryJournal implements Journal {
  private readonly stored = new Map<number, Uint8Array>();
  private readonly records = new Map<number, BatchRecord>();

  async append(entries: readonly StoredEntry[]): Promise<void> {
    for (const { seq, bytes } of entries) this.stored.set(seq, bytes.slice());
  }

  async *entries(range: { from?: number; to?: number } = {}): AsyncIterable<StoredEntry> {
    const inRange = (seq: number) => seq >= (range.from ?? 0) && seq < (range.to ?? Infinity);
    const numbers = [...this.stored.keys()].filter(inRange).sort((a, b) => a - b);
    for (const seq of numbers) yield { seq, bytes: this.stored.get(seq)!.slice() };
  }

  async entry(seq: number): Promise<Uint8Array | undefined> {
    return this.stored.get(seq)?.slice();
  }

  async putBatch(record: BatchRecord): Promise<void> {
    this.records.set(record.batch, structuredClone(record));
  }

  async batch(batch: number): Promise<BatchRecord | undefined> {
    const record = this.records.get(batch);
    return record && structuredClone(record);
  }

  async *batches(options: { before?: number; limit: number }): AsyncIterable<BatchRecord> {
    const numbers = [...this.records.keys()].filter((n) => options.before === undefined || n < options.before).sort((a, b) => b - a);
    for (const n of numbers.slice(0, options.limit)) yield structuredClone(this.records.get(n)!);
  }

  async latestBatch(): Promise<BatchRecord | undefined> {
    let latest = 0;
    for (const batch of this.records.keys()) latest = Math.max(latest, batch);
    return this.batch(latest);
  }

  async rebase(change: { entries: readonly StoredEntry[]; after: number; struck: BatchRecord }): Promise<void> {
    for (const batch of [...this.records.keys()]) if (batch > change.after) this.records.delete(batch);
    await this.append(change.entries);
    await this.putBatch(change.struck);
  }

  async close(): Promise<void> {}
}
