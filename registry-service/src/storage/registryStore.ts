import { Level } from "level";
import {
  applySubmission,
  encodedEventLength,
  EventKind,
  type AppliedDraft,
  type Hex,
  type StateReader,
  type StatusEvent,
  type StatusRecord,
  type Submission,
  type SubmissionContext,
} from "../core";

/** One accepted submission as journalled: enough to rebuild its batch and answer a resend. */
export interface JournalEntry {
  seq: number;
  batch: number;
  signer: Hex;
  submission: Submission;
  applied: AppliedDraft[];
}

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

type Json = Record<string, unknown>;

/** When a batch is full; the batcher's interval decides when a non-full one is cut. */
export interface BatchLimits {
  maxBatchEvents: number;
  /** anchor calldata bytes; keep under ~400 kB on chains with Prague/Osaka rules (docs/gas.md) */
  maxBatchBytes: number;
}
export const DEFAULT_BATCH_LIMITS: BatchLimits = { maxBatchEvents: 10_000, maxBatchBytes: 350_000 };
/** classic-level (what `level` is on Node) honours `sync: true`; abstract-level's types omit it. */
const SYNCED = { sync: true } as Record<string, unknown>;
type PutOperation = { type: "put"; sublevel: unknown; key: string; value: unknown };
const put = (sublevel: unknown, key: string, value: unknown): PutOperation => ({ type: "put", sublevel, key, value });
const key = (n: number) => n.toString(16).padStart(13, "0"); // sorts numerically up to 2^52

/**
 * The service's durable state in LevelDB, one sublevel per key space. Every accepted submission is
 * written in a synced batch together with the state it changes (journal entry, nonce, records,
 * device and holder bindings, counters), so an acknowledged submission survives a crash and a
 * crash never leaves half of one. Intake is serialised: each submission sees all earlier ones.
 */
export class RegistryStore {
  private readonly meta;
  private readonly journal;
  private readonly nonces;
  private readonly records;
  private readonly devices;
  private readonly holders;
  private readonly batches;
  private readonly anchored;
  private queue: Promise<unknown> = Promise.resolve();
  private waiting: Waiting[] = [];
  private committing = false;
  /** the meta counters as last written: this store is their only writer, so reads come from here */
  private counters!: Counters;
  /** sequence number of the last journal entry in an anchored batch (-1: none) */
  private anchoredLastSeq = -1;
  /** called after a write that closed a full batch: the batcher should not wait for its interval */
  onBatchFull?: () => void;

  private constructor(
    private readonly db: Level<string, Json>,
    private readonly limits: BatchLimits,
  ) {
    const json = { valueEncoding: "json" } as const;
    this.meta = db.sublevel<string, number>("meta", json);
    this.journal = db.sublevel<string, JournalEntry>("journal", json);
    this.nonces = db.sublevel<string, number>("nonces", json);
    this.records = db.sublevel<string, StatusRecord>("records", json);
    this.devices = db.sublevel<string, number>("devices", json);
    this.holders = db.sublevel<string, number>("holders", json);
    this.batches = db.sublevel<string, BatchRecord>("batches", json);
    this.anchored = db.sublevel<string, StatusRecord>("anchored", json);
  }

  static async open(location: string, limits: Partial<BatchLimits> = {}): Promise<RegistryStore> {
    const db = new Level<string, Json>(location, { valueEncoding: "json" });
    await db.open();
    const store = new RegistryStore(db, { ...DEFAULT_BATCH_LIMITS, ...limits });
    const counter = async (name: keyof Counters, fallback = 0) => (await store.meta.get(name)) ?? fallback;
    store.counters = {
      nextIndex: await counter("nextIndex"),
      nextSeq: await counter("nextSeq"),
      openBatch: await counter("openBatch", 1),
      openEvents: await counter("openEvents"),
      openBytes: await counter("openBytes"),
    };
    store.anchoredLastSeq = (await store.latestAnchoredRecord())?.lastSeq ?? -1;
    return store;
  }

  close(): Promise<void> {
    return this.db.close();
  }

  /** The batch that newly accepted submissions join (1 on a fresh store). */
  async openBatch(): Promise<number> {
    return this.counters.openBatch;
  }

  /** Current (pending, not necessarily anchored) record of an index. */
  record(index: number): Promise<StatusRecord | undefined> {
    return this.records.get(key(index));
  }

  /**
   * Journals a signed submission and its effects, or returns the original entry for a resend.
   * Throws TransitionError (nothing written) when it breaks a rule of docs/spec.md 4.3.
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
      devices: new Map(),
      holders: new Map(),
      nonces: new Map(),
      entries: new Map(),
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
    if (done.some(({ result }) => !result.duplicate)) {
      try {
        await this.db.batch([...operations, ...this.counterPuts(overlay.counters)] as never, SYNCED);
      } catch (error) {
        for (const { waiting } of done) waiting.reject(error);
        return;
      }
      this.counters = overlay.counters;
    }
    for (const { waiting, result } of done) waiting.resolve(result);
    if (overlay.closedBatch) this.onBatchFull?.();
  }

  private counterPuts(counters: Counters): PutOperation[] {
    return (Object.keys(counters) as (keyof Counters)[]).map((name) => put(this.meta, name, counters[name]));
  }

  /** Applies one submission on top of the group's overlay and queues its writes. */
  private async applyOne({ signer, roles, submission }: Waiting, overlay: Overlay, operations: PutOperation[]): Promise<AcceptResult> {
    const nonce = nonceKey(signer, submission.nonce);
    const earlier = overlay.nonces.get(nonce) ?? (await this.nonces.get(nonce));
    if (earlier !== undefined) return { entry: overlay.entries.get(earlier) ?? (await this.journal.get(key(earlier)))!, duplicate: true };

    const counters = overlay.counters;
    let batch = counters.openBatch;
    const state = await this.prefetch(submission, overlay);
    let { applied, changes } = applySubmission(state, { signer, roles, batch }, submission);
    const bytes = submissionBytes(submission);
    const full = counters.openEvents + applied.length > this.limits.maxBatchEvents || counters.openBytes + bytes > this.limits.maxBatchBytes;
    if (full && counters.openEvents > 0) {
      // the open batch is full: this submission starts the next one (its records carry that number)
      batch += 1;
      [counters.openEvents, counters.openBytes] = [0, 0];
      overlay.closedBatch = true;
      ({ applied, changes } = applySubmission(state, { signer, roles, batch }, submission));
    }
    const seq = counters.nextSeq++;
    const entry: JournalEntry = { seq, batch, signer, submission, applied };
    counters.openBatch = batch;
    counters.openEvents += applied.length;
    counters.openBytes += bytes;
    counters.nextIndex = changes.nextIndex;
    overlay.nonces.set(nonce, seq);
    overlay.entries.set(seq, entry);
    for (const [index, record] of changes.records) overlay.records.set(index, record);
    for (const [device, index] of changes.devices) overlay.devices.set(device, index);
    for (const [holder, index] of changes.holders) overlay.holders.set(holder, index);
    operations.push(
      put(this.journal, key(seq), entry),
      put(this.nonces, nonce, seq),
      ...[...changes.records].map(([index, record]) => put(this.records, key(index), record)),
      ...[...changes.devices].map(([device, index]) => put(this.devices, device, index)),
      ...[...changes.holders].map(([holder, index]) => put(this.holders, holder, index)),
    );
    return { entry, duplicate: false };
  }

  /**
   * Records what `prepare` makes of the oldest batch without a record (closing it if it is the
   * open one), in one synced write: a crash leaves the batch either unrecorded or recorded, never
   * cut without its record. Returns undefined when there is nothing to cut.
   */
  cutBatch(
    prepare: (batch: number, entries: JournalEntry[]) => Omit<BatchRecord, "state" | "lastSeq">,
  ): Promise<BatchRecord | undefined> {
    return this.serialised(async () => {
      const batch = ((await this.latestBatchRecord())?.batch ?? 0) + 1;
      const entries = await this.entriesOf(batch);
      if (entries.length === 0) return undefined;
      const record: BatchRecord = { ...prepare(batch, entries), batch, state: "prepared", lastSeq: entries[entries.length - 1].seq };
      const counters = batch === this.counters.openBatch ? { ...this.counters, openBatch: batch + 1, openEvents: 0, openBytes: 0 } : this.counters;
      await this.db.batch([put(this.batches, key(batch), record), ...this.counterPuts(counters)] as never, SYNCED);
      this.counters = counters;
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
   * Records where `batch` was anchored and makes its records the anchored ones, in one write;
   * returns the updated batch record.
   */
  async markAnchored(batch: number, transactionHash: Hex, blockNumber: number, records: readonly StatusRecord[]): Promise<BatchRecord> {
    const cut = await this.batchRecord(batch);
    if (!cut) throw new Error(`batch ${batch} was never cut`);
    const anchored: BatchRecord = { ...cut, state: "anchored", transactionHash, blockNumber };
    const operations = [put(this.batches, key(batch), anchored), ...records.map((changed) => put(this.anchored, key(changed.index), changed))];
    await this.db.batch(operations as never, SYNCED);
    this.anchoredLastSeq = anchored.lastSeq;
    return anchored;
  }

  /** The record of an index as of the latest anchored batch (what proofs are served for). */
  anchoredRecord(index: number): Promise<StatusRecord | undefined> {
    return this.anchored.get(key(index));
  }

  /** Every journal entry of batches 1..`batch`, in acceptance order (one forward scan). */
  async *entriesUpTo(batch: number): AsyncGenerator<JournalEntry> {
    for await (const entry of this.journal.values()) {
      if (entry.batch > batch) return;
      yield entry;
    }
  }

  /** Journal entries of one batch, in acceptance order. */
  async entriesOf(batch: number): Promise<JournalEntry[]> {
    const entries: JournalEntry[] = [];
    for await (const entry of this.journal.values({ reverse: true })) {
      if (entry.batch < batch) break;
      if (entry.batch === batch) entries.push(entry);
    }
    return entries.reverse();
  }

  /**
   * Loads, into a synchronous reader, every key the submission's events can touch: the group's
   * overlay first, the rest in three batched reads (bindings, then the records they point to).
   */
  private async prefetch(submission: Submission, overlay: Overlay): Promise<StateReader> {
    const { events } = submission;
    const bound = (e: StatusEvent) => e.kind === EventKind.Issue || e.kind === EventKind.LockDevice;
    const devices = await lookup<Hex, number>(overlay.devices, this.devices, events.filter(bound).map((e) => e.deviceKeyHash), (k) => k);
    const holders = await lookup<Hex, number>(overlay.holders, this.holders, events.filter((e) => e.kind === EventKind.Issue).map((e) => e.holderRef), (k) => k);
    const indexes = [...devices.values(), ...holders.values(), ...events.filter((e) => !bound(e)).map((e) => e.index)];
    const records = await lookup<number, StatusRecord>(overlay.records, this.records, indexes, key);
    return {
      record: (index) => records.get(index),
      deviceIndex: (device) => devices.get(device),
      holderIndex: (holder) => holders.get(holder),
      nextIndex: () => overlay.counters.nextIndex,
      seen: () => false, // checked against the nonces (group and store) before
    };
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

/** A commit group's state on top of the store: what earlier submissions of the group changed. */
interface Overlay {
  records: Map<number, StatusRecord>;
  devices: Map<Hex, number>;
  holders: Map<Hex, number>;
  nonces: Map<string, number>;
  entries: Map<number, JournalEntry>;
  counters: Counters;
  /** a submission of the group started a new batch, closing the full one */
  closedBatch: boolean;
}

/** The meta counters, written with every change to them. */
interface Counters {
  nextIndex: number;
  nextSeq: number;
  openBatch: number;
  openEvents: number;
  openBytes: number;
}

/** Bytes a submission adds to the anchor calldata (docs/spec.md 5.1). */
function submissionBytes(submission: Submission): number {
  return 101 + submission.events.reduce((sum, event) => sum + encodedEventLength(event.kind), 0);
}

/** Values of `keys`: from the commit group's overlay first, the rest in one getMany. */
async function lookup<K, V>(
  overlay: Map<K, V>,
  sublevel: { getMany(keys: string[]): Promise<(V | undefined)[]> },
  keys: K[],
  toKey: (k: K) => string,
): Promise<Map<K, V>> {
  const found = new Map<K, V>();
  const missing = [...new Set(keys)].filter((k) => {
    const known = overlay.get(k);
    if (known !== undefined) found.set(k, known);
    return known === undefined;
  });
  const stored = await sublevel.getMany(missing.map(toKey));
  missing.forEach((k, i) => stored[i] !== undefined && found.set(k, stored[i]!));
  return found;
}

function nonceKey(signer: Hex, nonce: Hex): string {
  return `${signer.toLowerCase()}:${nonce.toLowerCase()}`;
}
