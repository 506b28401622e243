import { LRUCache } from "lru-cache";
import { EventTree, positionedEvents, type AppliedEvent, type Hasher } from "../core";
import type { Intake } from "../intake";
import type { BatchRecord, Journal, JournalEntry } from "../journal";
import { ApiError } from "../readApi";
import type { BatchSummary, EventReceipt } from "../wire";

/** A cut batch's contents never change: its events and event tree are kept for the next request. */
interface BatchContents {
  entries: JournalEntry[];
  applied: AppliedEvent[];
  tree?: EventTree;
}
/** Batches whose contents are kept: receipts are asked for recent batches (a lock just anchored). */
const CACHED_BATCHES = 8;

/** What auditors read of cut batches: records, signed submissions, applied events and receipts. */
export class BatchArchive {
  private readonly cache = new LRUCache<number, BatchContents>({ max: CACHED_BATCHES });

  constructor(
    private readonly journal: Journal,
    private readonly intake: Intake,
    private readonly hasher: Hasher,
  ) {}

  /** Batch records below `before`, newest first. */
  async list(before: number | undefined, limit: number): Promise<BatchSummary[]> {
    const batches = [];
    for await (const record of this.journal.batches({ before, limit })) batches.push(summary(record));
    return batches;
  }

  /** One cut batch (NOT_FOUND if it was not cut yet) with its contents. */
  async batch(batch: number): Promise<{ record: BatchRecord; summary: BatchSummary; contents: BatchContents }> {
    const record = await this.journal.batch(batch);
    if (!record) throw new ApiError("NOT_FOUND", 404, `batch ${batch} has not been cut yet`);
    let contents = this.cache.get(batch);
    if (!contents) {
      const entries = await this.intake.entriesOf(batch);
      contents = { entries, applied: positionedEvents(entries) };
      this.cache.set(batch, contents);
    }
    return { record, summary: summary(record), contents };
  }

  /** The proof that event `position` of `batch` is a leaf of its event tree. */
  async receipt(batch: number, position: number): Promise<EventReceipt> {
    const { summary, contents } = await this.batch(batch);
    const { applied } = contents;
    if (position >= applied.length) throw new ApiError("NOT_FOUND", 404, `batch ${batch} has ${applied.length} events`);
    contents.tree ??= new EventTree(this.hasher, applied);
    const receipt = contents.tree.receipt(position);
    return { event: applied[position], leaf: receipt.leaf, proof: receipt.proof, eventRoot: receipt.root, batch: summary };
  }
}

/** A batch record as the API shows it: without its calldata, unset anchor fields as null. */
function summary(record: BatchRecord): BatchSummary {
  const { eventData: _eventData, lastSeq: _lastSeq, transactionHash, blockNumber, ...fields } = record;
  return { ...fields, transactionHash: transactionHash ?? null, blockNumber: blockNumber ?? null };
}
