import { LRUCache } from "lru-cache";
import { EventTree, positionedEvents, type AppliedEvent, type Hasher, type Hex } from "../core";
import type { Intake } from "../intake";
import type { BatchRecord, Journal, JournalEntry } from "../journal";
import { ApiError, eventReceipt } from "../readApi";
import type { BatchSummary, EventReceipt, SubmissionStatus } from "../wire";

/** A cut batch's contents never change: its events and event tree are kept for the next request. */
interface BatchContents {
  entries: JournalEntry[];
  applied: AppliedEvent[];
  tree?: EventTree;
}
/** Batches whose contents are kept: receipts are asked for recent batches (a lock just anchored). */
const CACHED_BATCHES = 8;

/** What auditors and submitters read of cut batches: records, signed submissions, applied events, receipts, where a submission went. */
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
    return { record, summary: summary(record), contents: await this.contents(batch) };
  }

  /** A cut batch's entries and applied events, read once and kept. */
  private async contents(batch: number): Promise<BatchContents> {
    let contents = this.cache.get(batch);
    if (!contents) {
      const entries = await this.intake.entriesOf(batch);
      contents = { entries, applied: positionedEvents(entries) };
      this.cache.set(batch, contents);
    }
    return contents;
  }

  /** Where the submission of (signer, nonce) stands: NOT_FOUND if none was accepted. */
  async submission(signer: Hex, nonce: Hex): Promise<SubmissionStatus> {
    const entry = await this.intake.submissionOf(signer, nonce);
    if (!entry) throw new ApiError("NOT_FOUND", 404, `no submission of ${signer} with nonce ${nonce} was accepted`);
    const { seq, batch, submission, applied } = entry;
    const cut = await this.journal.batch(batch);
    const positions = cut
      ? (await this.contents(batch)).applied
          .filter((event) => event.signer === entry.signer && event.nonce === submission.nonce)
          .map((event) => event.position)
      : null;
    return {
      signer: entry.signer,
      nonce: submission.nonce,
      seq,
      deadline: submission.deadline,
      intakeBlock: submission.intakeBlock,
      state: cut ? (cut.state === "anchored" ? "anchored" : "cut") : "accepted",
      batch,
      positions,
      receipts: (positions ?? []).map((position) => `/v1/batches/${batch}/receipts/${position}`),
      transactionHash: cut?.transactionHash ?? null,
      blockNumber: cut?.blockNumber ?? null,
      applied: applied.map(({ kind, record }) => ({ kind, record })),
    };
  }

  /** The proof that event `position` of `batch` is a leaf of its event tree. */
  async receipt(batch: number, position: number): Promise<EventReceipt> {
    const { summary, contents } = await this.batch(batch);
    contents.tree ??= new EventTree(this.hasher, contents.applied);
    return eventReceipt(contents.tree, { summary, applied: contents.applied }, position);
  }
}

/** A batch record as the API shows it: without its calldata, unset anchor fields as null. */
function summary(record: BatchRecord): BatchSummary {
  const { eventData: _eventData, lastSeq: _lastSeq, transactionHash, blockNumber, ...fields } = record;
  return { ...fields, transactionHash: transactionHash ?? null, blockNumber: blockNumber ?? null };
}
