import { Level } from "level";
import {
  applySubmission,
  encodedEventLength,
  EventKind,
  HashIndex,
  RecordTable,
  submissionLength,
  type Hex,
  type StateChanges,
  type StateReader,
  type StatusRecord,
  type Submission,
  type SubmissionContext,
} from "../core";
import {
  decodeJournalEntry,
  encodeJournalEntry,
  journalEffects,
  journalRecordBytes,
  type JournalEffects,
  type JournalEntry,
} from "./journalCodec";

export type { JournalEntry } from "./journalCodec";

/** Where a cut batch stands. It is recorded before its transaction is sent and never re-prepared. */
export type BatchState = "prepared" | "anchored";

/** A cut batch, exactly as it is (or was) anchored: the anchor is never rebuilt after a crash. */
export interface BatchRecord {
  batch: number;
  state: BatchState;
  previousRoot: Hex;
  statusRoot: Hex;
  eventRoot: Hex;
  eventCount: number;
  eventData: Hex;
  eventDataHash: Hex;
  /** sequence number of the batch's last journal entry */
  lastSeq: number;
  transactionHash?: Hex;
  blockNumber?: number;
}

export interface AcceptResult {
  entry: JournalEntry;
  /** true when this (signer, nonce) was accepted before: the original entry is returned */
  duplicate: boolean;
}

export type StoreErrorCode = "SUBMISSION_TOO_LARGE" | "UNREADABLE_DATA";

/** The store refuses a submission (nothing written) or cannot read its data directory. */
export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "StoreError";
  }
}

/** When a batch is full; the batcher's interval decides when a non-full one is cut. */
export interface BatchLimits {
  maxBatchEvents: number;
  /** anchor calldata bytes; keep under ~400 kB on chains with Prague/Osaka rules (docs/gas.md) */
  maxBatchBytes: number;
}
export const DEFAULT_BATCH_LIMITS: BatchLimits = { maxBatchEvents: 10_000, maxBatchBytes: 350_000 };
/** Calldata bytes of a batch before its submissions: version(1) || submissionCount(4). */
const BATCH_HEADER_BYTES = 5;
/** Version of what this store writes; an older data directory is refused, not misread. */
const STORE_FORMAT = 2;
/** classic-level (what `level` is on Node) honours `sync: true`; abstract-level's types omit it. */
const SYNCED = { sync: true } as Record<string, unknown>;
type PutOperation = { type: "put"; sublevel: unknown; key: string; value: unknown };
const put = (sublevel: unknown, key: string, value: unknown): PutOperation => ({ type: "put", sublevel, key, value });
const key = (n: number) => n.toString(16).padStart(13, "0"); // sorts numerically up to 2^52

/**
 * The service's durable state. LevelDB holds the journal (one binary entry per accepted submission,
 * docs/spec.md's calldata encoding plus the records it changed) and the batch records; everything
 * else (current and anchored records, device and holder bindings, nonces, counters) is derived
 * from them, kept in memory and rebuilt by one journal scan on open. An acknowledged submission is
 * in a synced write before its 2xx; a crash never leaves half of one. Intake is serialised: each
 * submission sees all earlier ones.
 */
export class RegistryStore {
  private readonly meta;
  private readonly journal;
  private readonly batches;
  private queue: Promise<unknown> = Promise.resolve();
  private waiting: Waiting[] = [];
  private committing = false;
  /** records as of every accepted submission (pending changes included) */
  private readonly current = new RecordTable();
  /** records as of the latest anchored batch: what proofs are served for */
  readonly anchoredRecords = new RecordTable();
  private readonly devices = new HashIndex();
  private readonly holders = new HashIndex();
  /** (signer, nonce) -> sequence number of the entry that used it */
  private readonly nonces = new Map<string, number>();
  /** first journal sequence number of each batch that has entries */
  private readonly batchStarts = new Map<number, number>();
  private counters: Counters = { nextIndex: 0, nextSeq: 0, openBatch: 1, openEvents: 0, openBytes: 0 };
  /** sequence number of the last journal entry in an anchored batch (-1: none) */
  private anchoredLastSeq = -1;
  /** called after a write that closed a full batch: the batcher should not wait for its interval */
  onBatchFull?: () => void;

  private constructor(
    private readonly db: Level<string, unknown>,
    private readonly limits: BatchLimits,
  ) {
    this.meta = db.sublevel<string, number>("meta", { valueEncoding: "json" });
    this.journal = db.sublevel<string, Uint8Array>("journal", { valueEncoding: "view" });
    this.batches = db.sublevel<string, BatchRecord>("batches", { valueEncoding: "json" });
  }

  static async open(location: string, limits: Partial<BatchLimits> = {}): Promise<RegistryStore> {
    const db = new Level<string, unknown>(location, { valueEncoding: "json" });
    await db.open();
    const store = new RegistryStore(db, { ...DEFAULT_BATCH_LIMITS, ...limits });
    try {
      await store.load();
    } catch (error) {
      await db.close();
      throw error;
    }
    return store;
  }

  /** Checks the format, then rebuilds the in-memory state from the journal's recorded effects. */
  private async load(): Promise<void> {
    const format = await this.meta.get("format");
    if (format === undefined && (await this.meta.get("nextSeq")) !== undefined) {
      throw new StoreError(
        "UNREADABLE_DATA",
        "the data directory was written by an earlier version (JSON journal); start with an empty DATA_DIR",
      );
    }
    if (format !== undefined && format !== STORE_FORMAT)
      throw new StoreError("UNREADABLE_DATA", `the data directory has format ${format}; this service reads format ${STORE_FORMAT}`);
    if (format === undefined) await this.meta.put("format", STORE_FORMAT, SYNCED);

    const latest = await this.latestBatchRecord();
    this.anchoredLastSeq = (await this.latestAnchoredRecord())?.lastSeq ?? -1;
    const counters = this.counters;
    for await (const [seqKey, bytes] of this.journal.iterator()) {
      const seq = parseInt(seqKey, 16);
      let effects: JournalEffects;
      try {
        effects = journalEffects(seq, bytes);
      } catch (error) {
        throw new StoreError("UNREADABLE_DATA", (error as Error).message);
      }
      for (const { index, raw } of effects.records) {
        this.current.setRaw(index, raw);
        if (seq <= this.anchoredLastSeq) this.anchoredRecords.setRaw(index, raw);
      }
      for (const { holderRef, deviceKeyHash, index } of effects.issued) {
        this.holders.set(holderRef, index);
        this.devices.set(deviceKeyHash, index);
        counters.nextIndex = Math.max(counters.nextIndex, index + 1);
      }
      this.nonces.set(nonceKey(effects.signer, effects.nonce), seq);
      if (!this.batchStarts.has(effects.batch)) this.batchStarts.set(effects.batch, seq);
      advance(counters, seq, effects.batch, effects.records.length, effects.submissionBytes);
    }
    if (latest && latest.batch >= this.counters.openBatch) {
      // the open batch was cut with nothing after it: the next submission opens the one after
      this.counters = { ...this.counters, openBatch: latest.batch + 1, openEvents: 0, openBytes: 0 };
    }
  }

  close(): Promise<void> {
    return this.db.close();
  }

  /** The batch that newly accepted submissions join (1 on a fresh store). */
  async openBatch(): Promise<number> {
    return this.counters.openBatch;
  }

  /** Current (pending, not necessarily anchored) record of an index. */
  record(index: number): StatusRecord | undefined {
    return this.current.get(index);
  }

  /**
   * Journals a signed submission and its effects, or returns the original entry for a resend.
   * Throws TransitionError or StoreError (nothing written) when it breaks a rule.
   *
   * Group commit: submissions that arrive while a write is in flight wait, are then applied one
   * after another in memory, and are written together in ONE synced batch; each is acknowledged
   * only after that batch is on disk. One fsync serves many submissions.
   */
  accept(signer: Hex, roles: SubmissionContext["roles"], submission: Submission): Promise<AcceptResult> {
    return new Promise<AcceptResult>((resolve, reject) => {
      this.waiting.push({ signer, roles, submission, resolve, reject });
      if (!this.committing) {
        this.committing = true;
        void this.serialised(() => this.commitWaiting());
      }
    });
  }

  private async commitWaiting(): Promise<void> {
    while (this.waiting.length > 0) await this.commitGroup(this.waiting.splice(0, MAX_GROUP));
    this.committing = false; // synchronous with the emptiness check: a later accept schedules anew
  }

  private async commitGroup(group: Waiting[]): Promise<void> {
    const overlay: Overlay = {
      records: new Map(),
      rawRecords: new Map(),
      devices: new Map(),
      holders: new Map(),
      nonces: new Map(),
      entries: new Map(),
      batchStarts: new Map(),
      counters: { ...this.counters },
      closedBatch: false,
    };
    const operations: PutOperation[] = [];
    const done: { waiting: Waiting; result: AcceptResult }[] = [];
    for (const waiting of group) {
      try {
        const result = await this.applyOne(waiting, overlay, operations);
        done.push({ waiting, result });
      } catch (error) {
        waiting.reject(error); // nothing of it reached the overlay
      }
    }
    if (operations.length > 0) {
      try {
        await this.db.batch(operations as never, SYNCED);
      } catch (error) {
        for (const { waiting } of done) waiting.reject(error);
        return;
      }
      this.commit(overlay);
    }
    for (const { waiting, result } of done) waiting.resolve(result);
    if (overlay.closedBatch) this.onBatchFull?.();
  }

  /** Applies one submission on top of the group's overlay and queues its journal entry. */
  private async applyOne({ signer, roles, submission }: Waiting, overlay: Overlay, operations: PutOperation[]): Promise<AcceptResult> {
    const nonce = nonceKey(signer, submission.nonce);
    const earlier = overlay.nonces.get(nonce) ?? this.nonces.get(nonce);
    if (earlier !== undefined) return { entry: overlay.entries.get(earlier) ?? (await this.entry(earlier)), duplicate: true };

    const bytes = submissionLength(submission);
    if (BATCH_HEADER_BYTES + bytes > this.limits.maxBatchBytes || submission.events.length > this.limits.maxBatchEvents) {
      throw new StoreError(
        "SUBMISSION_TOO_LARGE",
        `the submission's ${submission.events.length} events take ${bytes} bytes of anchor calldata; one batch carries at most ${this.limits.maxBatchEvents} events in ${this.limits.maxBatchBytes - BATCH_HEADER_BYTES} bytes (about ${Math.floor((this.limits.maxBatchBytes - BATCH_HEADER_BYTES - submissionLength({ events: [] })) / encodedEventLength(EventKind.Issue))} issuances): split it`,
      );
    }
    const counters = overlay.counters;
    let batch = counters.openBatch;
    const state = this.reader(overlay);
    let { applied, changes } = applySubmission(state, { signer, roles, batch }, submission);
    const full =
      counters.openEvents + applied.length > this.limits.maxBatchEvents ||
      counters.openBytes + bytes > this.limits.maxBatchBytes - BATCH_HEADER_BYTES;
    if (full && counters.openEvents > 0) {
      // the open batch is full: this submission starts the next one (its records carry that number)
      batch += 1;
      overlay.closedBatch = true;
      ({ applied, changes } = applySubmission(state, { signer, roles, batch }, submission));
    }
    const entry: JournalEntry = { seq: counters.nextSeq, batch, signer, submission, applied };
    this.stage(overlay, entry, changes, bytes);
    const encoded = encodeJournalEntry(entry);
    operations.push(put(this.journal, key(entry.seq), encoded));
    // the records as encoded in the entry go into the record table as they are (later ones win)
    applied.forEach((draft, i) => overlay.rawRecords.set(draft.record.index, journalRecordBytes(encoded, applied.length, i)));
    return { entry, duplicate: false };
  }

  /** Adds an accepted entry's changes to the group's overlay. */
  private stage(state: Overlay, entry: JournalEntry, changes: StateChanges, submissionBytes: number): void {
    if (!this.batchStarts.has(entry.batch) && !state.batchStarts.has(entry.batch)) state.batchStarts.set(entry.batch, entry.seq);
    advance(state.counters, entry.seq, entry.batch, entry.applied.length, submissionBytes);
    state.counters.nextIndex = changes.nextIndex;
    state.nonces.set(nonceKey(entry.signer, entry.submission.nonce), entry.seq);
    state.entries.set(entry.seq, entry);
    for (const [index, record] of changes.records) state.records.set(index, record);
    for (const [device, index] of changes.devices) state.devices.set(device, index);
    for (const [holder, index] of changes.holders) state.holders.set(holder, index);
  }

  /** Makes a staged overlay (now on disk) the store's state. */
  private commit(overlay: Overlay): void {
    for (const [index, raw] of overlay.rawRecords) this.current.setRaw(index, raw);
    for (const [device, index] of overlay.devices) this.devices.set(device, index);
    for (const [holder, index] of overlay.holders) this.holders.set(holder, index);
    for (const [nonce, seq] of overlay.nonces) this.nonces.set(nonce, seq);
    for (const [batch, seq] of overlay.batchStarts) this.batchStarts.set(batch, seq);
    this.counters = { ...overlay.counters };
  }

  /** The state as `overlay` (uncommitted changes) on top of the store's. */
  private reader(overlay: Overlay): StateReader {
    return {
      record: (index) => overlay.records.get(index) ?? this.current.get(index),
      deviceIndex: (device) => overlay.devices.get(device) ?? this.devices.get(device),
      holderIndex: (holder) => overlay.holders.get(holder) ?? this.holders.get(holder),
      nextIndex: () => overlay.counters.nextIndex,
      seen: () => false, // checked against the nonces (group and store) before
    };
  }

  private async entry(seq: number): Promise<JournalEntry> {
    return decodeJournalEntry(seq, (await this.journal.get(key(seq)))!);
  }

  /**
   * Records what `prepare` makes of the oldest batch without a record (closing it if it is the
   * open one), in one synced write: a crash leaves the batch either unrecorded or recorded, never
   * cut without its record. Returns undefined when there is nothing to cut.
   */
  cutBatch(prepare: (batch: number, entries: JournalEntry[]) => Omit<BatchRecord, "state" | "lastSeq">): Promise<BatchRecord | undefined> {
    return this.serialised(async () => {
      const batch = ((await this.latestBatchRecord())?.batch ?? 0) + 1;
      const entries = await this.entriesOf(batch);
      if (entries.length === 0) return undefined;
      const record: BatchRecord = { ...prepare(batch, entries), batch, state: "prepared", lastSeq: entries[entries.length - 1].seq };
      await this.batches.put(key(batch), record, SYNCED);
      if (batch === this.counters.openBatch) this.counters = { ...this.counters, openBatch: batch + 1, openEvents: 0, openBytes: 0 };
      return record;
    });
  }

  /** True when a batch is closed (full) but not yet recorded: the batcher should not wait. */
  async hasFullBatch(): Promise<boolean> {
    return ((await this.latestBatchRecord())?.batch ?? 0) + 1 < this.counters.openBatch;
  }

  /** Accepted submissions not yet in an anchored batch (the queue the bound applies to). */
  async backlog(): Promise<number> {
    return this.counters.nextSeq - (this.anchoredLastSeq + 1);
  }

  /** Batch records, newest first. */
  async *batchRecords(options: { before?: number; limit: number }): AsyncGenerator<BatchRecord> {
    const range = options.before === undefined ? {} : { lt: key(options.before) };
    yield* this.batches.values({ ...range, reverse: true, limit: options.limit });
  }

  batchRecord(batch: number): Promise<BatchRecord | undefined> {
    return this.batches.get(key(batch));
  }

  /** The newest cut batch's record, if any batch was ever cut. */
  async latestBatchRecord(): Promise<BatchRecord | undefined> {
    for await (const record of this.batches.values({ reverse: true, limit: 1 })) return record;
    return undefined;
  }

  /** The newest anchored batch's record, if any batch was ever anchored (at most one is in flight). */
  async latestAnchoredRecord(): Promise<BatchRecord | undefined> {
    const latest = await this.latestBatchRecord();
    return latest?.state === "anchored" ? latest : latest && this.batchRecord(latest.batch - 1);
  }

  /**
   * Records where `batch` was anchored (one synced write), then, in one synchronous step, makes its
   * records the anchored ones and runs `alongside` (the caller's own anchored view moves with them).
   */
  async markAnchored(
    batch: number,
    transactionHash: Hex,
    blockNumber: number,
    records: readonly StatusRecord[],
    alongside?: (anchored: BatchRecord) => void,
  ): Promise<BatchRecord> {
    const cut = await this.batchRecord(batch);
    if (!cut) throw new Error(`batch ${batch} was never cut`);
    const anchored: BatchRecord = { ...cut, state: "anchored", transactionHash, blockNumber };
    await this.batches.put(key(batch), anchored, SYNCED);
    for (const record of records) this.anchoredRecords.set(record);
    this.anchoredLastSeq = anchored.lastSeq;
    alongside?.(anchored);
    return anchored;
  }

  /** The record of an index as of the latest anchored batch (what proofs are served for). */
  anchoredRecord(index: number): StatusRecord | undefined {
    return this.anchoredRecords.get(index);
  }

  /** Journal entries of one batch, in acceptance order. */
  async entriesOf(batch: number): Promise<JournalEntry[]> {
    const start = this.batchStarts.get(batch);
    if (start === undefined) return [];
    const end = this.batchStarts.get(batch + 1) ?? this.counters.nextSeq;
    const entries: JournalEntry[] = [];
    for await (const [seqKey, bytes] of this.journal.iterator({ gte: key(start), lt: key(end) }))
      entries.push(decodeJournalEntry(parseInt(seqKey, 16), bytes));
    return entries;
  }

  private serialised<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** Most submissions written in one synced batch. */
const MAX_GROUP = 256;

interface Waiting {
  signer: Hex;
  roles: SubmissionContext["roles"];
  submission: Submission;
  resolve(result: AcceptResult): void;
  reject(error: unknown): void;
}

/** A commit group's changes on top of the store's state, until their write is on disk. */
interface Overlay {
  records: Map<number, StatusRecord>;
  /** the same records' canonical bytes, from the encoded journal entries */
  rawRecords: Map<number, Uint8Array>;
  devices: Map<Hex, number>;
  holders: Map<Hex, number>;
  nonces: Map<string, number>;
  entries: Map<number, JournalEntry>;
  counters: Counters;
  /** batch -> sequence number of its first entry, for batches that start here */
  batchStarts: Map<number, number>;
  /** a submission of the group started a new batch, closing the full one */
  closedBatch: boolean;
}

/** Where intake stands; derived from the journal and the batch records on open. */
interface Counters {
  nextIndex: number;
  nextSeq: number;
  openBatch: number;
  openEvents: number;
  openBytes: number;
}

/** Counts journal entry `seq` (in `batch`, with its applied events and calldata bytes) into the counters. */
function advance(counters: Counters, seq: number, batch: number, events: number, bytes: number): void {
  if (batch !== counters.openBatch) [counters.openEvents, counters.openBytes] = [0, 0];
  counters.openBatch = batch;
  counters.openEvents += events;
  counters.openBytes += bytes;
  counters.nextSeq = seq + 1;
}

function nonceKey(signer: Hex, nonce: Hex): string {
  return `${signer.toLowerCase()}:${nonce.toLowerCase()}`;
}
