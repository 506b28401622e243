import type { AnchorPayload, Hex } from "../core";

/**
 * Where a cut batch stands. It is recorded before its transaction is sent and never re-prepared.
 * "struck" is not this service's batch: the chain's batch that an approved correction strikes (the
 * last of them), recorded when the journal is re-based on the correction (docs/spec.md 5.5).
 */
export type BatchState = "prepared" | "anchored" | "struck";

/** A cut batch, exactly as it is (or was) anchored: the anchor is never rebuilt after a crash. */
export interface BatchRecord extends AnchorPayload {
  state: BatchState;
  eventDataHash: Hex;
  /** the highest sequence number among the batch's journal entries */
  lastSeq: number;
  transactionHash?: Hex;
  blockNumber?: number;
}

/** One journal entry as stored: its sequence number and its bytes (journalCodec.ts says what they hold). */
export interface StoredEntry {
  seq: number;
  bytes: Uint8Array;
}

/**
 * The service's durable state, and nothing else: accepted submissions (entries numbered 0, 1, 2..)
 * and the record of every cut batch. Everything the service keeps in memory is derived from
 * these. A driver persists them (LevelDB today; see docs/architecture.md for adding one); intake,
 * anchoring and the read API know only this interface. Every driver passes
 * test/journal/conformance.ts.
 */
export interface Journal {
  /** Appends consecutive entries in one atomic, durable write: when it resolves all are on disk, after a failure none is. */
  append(entries: readonly StoredEntry[]): Promise<void>;
  /** Entries with `from` <= seq < `to`, in order. */
  entries(range?: { from?: number; to?: number }): AsyncIterable<StoredEntry>;
  entry(seq: number): Promise<Uint8Array | undefined>;
  /** Creates or replaces a batch record, durably. */
  putBatch(record: BatchRecord): Promise<void>;
  batch(batch: number): Promise<BatchRecord | undefined>;
  /** Batch records below `before`, newest first. */
  batches(options: { before?: number; limit: number }): AsyncIterable<BatchRecord>;
  /** The newest batch record, if any batch was ever cut. */
  latestBatch(): Promise<BatchRecord | undefined>;
  /**
   * Re-bases the journal on a correction, in one atomic, durable write: replaces `entries` (same
   * sequence numbers, new bytes), drops every batch record after `after`, and puts `struck`.
   */
  rebase(change: { entries: readonly StoredEntry[]; after: number; struck: BatchRecord }): Promise<void>;
  close(): Promise<void>;
}

/** Most batches cut and not yet anchored at once (the anchorer's batches in flight): bounds the scans below. */
export const MAX_UNSETTLED_BATCHES = 64;

/** The newest anchored batch record, and the records above it, newest first. */
export async function aboveAnchored(journal: Journal): Promise<{ anchored?: BatchRecord; above: BatchRecord[] }> {
  const above: BatchRecord[] = [];
  for await (const record of journal.batches({ limit: MAX_UNSETTLED_BATCHES + 2 })) {
    if (record.state === "anchored") return { anchored: record, above };
    above.push(record);
  }
  return { above };
}

/**
 * The newest batch this service anchored, if any: at most MAX_UNSETTLED_BATCHES prepared batches
 * and one struck record (a correction's) lie above it.
 */
export async function latestAnchoredBatch(journal: Journal): Promise<BatchRecord | undefined> {
  return (await aboveAnchored(journal)).anchored;
}

/** The prepared batches above the newest anchored one (cut, recorded, maybe sent), oldest first: they are settled in that order. */
export async function unsettledBatches(journal: Journal): Promise<BatchRecord[]> {
  return (await aboveAnchored(journal)).above.filter((record) => record.state === "prepared").reverse();
}

export type JournalErrorCode = "UNREADABLE_DATA" | "FENCED";

/**
 * The journal cannot read its data (another format, a corrupt entry: UNREADABLE_DATA), or refused a
 * write because this instance no longer holds the lease (FENCED, a driver shared by instances).
 */
export class JournalError extends Error {
  constructor(
    readonly code: JournalErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "JournalError";
  }
}
