import {
  applySubmission,
  canonicalSignature,
  isPriority,
  moveToBatch,
  sameRequest,
  submissionLength,
  TransitionError,
  type Hex,
  type RoleCheck,
  type StateReader,
  type StatusRecord,
  type Submission,
  type SubmissionOutcome,
} from "../core";
import {
  decodeJournalEntry,
  encodeJournalEntry,
  journalEntryBatch,
  journalRecordBytes,
  type Journal,
  type JournalEntry,
  type StoredEntry,
} from "../journal";
import { checkBacklog, checkDeadline, checkFitsOneBatch, overflows, type Backlog, type BatchPolicy } from "./batchPolicy";
import { IntakeError } from "./errors";
import type { IntakeState, RebuiltState, StagedGroup } from "./intakeState";
import { openIntakeState, writeStateCheckpoint, type StateOrigin } from "./stateCheckpoint";

export interface AcceptResult {
  entry: JournalEntry;
  /** true when this (signer, nonce) was accepted before: the original entry is returned */
  duplicate: boolean;
}

/** Most submissions written in one synced journal append. */
const MAX_GROUP = 256;

interface Waiting {
  signer: Hex;
  /** the signer's roles and the block they were read at (the intake block) */
  check: RoleCheck;
  submission: Submission;
  resolve(result: AcceptResult): void;
  reject(error: unknown): void;
}

/**
 * Accepts signed submissions: applies each with the state machine on top of everything accepted
 * before it, assigns it to a batch under the batch policy, and journals it before acknowledging.
 *
 * Group commit: submissions that arrive while a write is in flight wait, are then applied one
 * after another in memory, and are appended together in ONE synced write; each is acknowledged
 * only after that write is on disk. One fsync serves many submissions. Intake is serialised:
 * each submission sees all earlier ones, and closing a batch waits for the writes in flight.
 */
export class Intake {
  private queue: Promise<unknown> = Promise.resolve();
  private waiting: Waiting[] = [];
  private committing = false;
  /** called after a write that closed a full batch: the batcher should not wait for the batch's age */
  onBatchFull?: () => void;
  /** why intake stopped for good (the chain diverged), if it did */
  private haltedBecause?: string;
  /** entries and events in anchored batches */
  private anchored: Backlog;
  /** events in every accepted entry */
  private acceptedEvents: number;

  constructor(
    private readonly journal: Journal,
    readonly policy: BatchPolicy,
    private readonly state: IntakeState,
    /** the latest anchored batch (0: none) */
    private anchoredBatch: number,
    /** status slots of the registry (2^depth) */
    private readonly slots: number,
    /** milliseconds since the epoch: deadlines are judged against it */
    private readonly clock: () => number = Date.now,
  ) {
    this.anchored = state.countThrough(anchoredBatch);
    this.acceptedEvents = state.countThrough().events;
  }

  /**
   * Intake over `journal`, its state restored from the checkpoint in `checkpoint` when that is the
   * journal's current state, else rebuilt by one scan (stateCheckpoint.ts); `anchored` is what it
   * gives the anchored view, `origin` where the state came from.
   */
  static async open(
    journal: Journal,
    policy: BatchPolicy,
    slots: number,
    clock: () => number = Date.now,
    checkpoint?: string,
  ): Promise<{ intake: Intake; anchored: RebuiltState["anchored"]; origin: StateOrigin }> {
    const { state, anchored, origin } = await openIntakeState(journal, checkpoint);
    return { intake: new Intake(journal, policy, state, anchored.batch, slots, clock), anchored, origin };
  }

  /**
   * Writes the state to `file` for the next start (a graceful stop: after the last submission and
   * the last anchor), after the writes in flight; undefined, or why nothing was written.
   */
  saveCheckpoint(file: string): Promise<string | undefined> {
    return this.serialised(() => writeStateCheckpoint(file, this.journal, this.state, this.anchoredBatch));
  }

  /** The batch that newly accepted submissions join (1 on a fresh journal). */
  get openBatch(): number {
    return this.state.counters.openBatch;
  }

  /** Accepted submissions not yet in an anchored batch (the queue the pushback bounds apply to). */
  get backlog(): number {
    return this.state.counters.nextSeq - this.anchored.submissions;
  }

  /** The events of those submissions. */
  get backlogEvents(): number {
    return this.acceptedEvents - this.anchored.events;
  }

  /** Current (pending, not necessarily anchored) record of an index. */
  record(index: number): StatusRecord | undefined {
    return this.state.records.get(index);
  }

  /**
   * Journals a signed submission and its effects, or returns the original entry for a resend.
   * Throws IntakeError (pushback, too large), TransitionError (a rule broken) or CoreError (a
   * malformed event), with nothing written.
   */
  async accept(signer: Hex, check: RoleCheck, submission: Submission): Promise<AcceptResult> {
    this.precheck(submission);
    return new Promise<AcceptResult>((resolve, reject) => {
      this.waiting.push({ signer, check, submission, resolve, reject });
      if (!this.committing) {
        this.committing = true;
        void this.serialised(() => this.commitWaiting());
      }
    });
  }

  /**
   * The refusals that need no signature and no state: intake stopped, backlog full, too large for
   * one anchor. The HTTP layer runs them before recovering the signer, so that a flood of large or
   * unanchorable requests costs no signature work; accept() runs them again.
   */
  precheck(submission: Pick<Submission, "events">): void {
    if (this.haltedBecause) throw new IntakeError("CHAIN_DIVERGED", `this registry stopped taking submissions: ${this.haltedBecause}`);
    const priority = isPriority(submission.events);
    checkBacklog(this.policy, { submissions: this.backlog, events: this.backlogEvents }, priority);
    checkFitsOneBatch(this.policy, submission.events.length, submissionLength(submission), priority);
  }

  /**
   * Closes `batch` to new submissions (regular ones if it is the open one, priority ones in any
   * case), after the writes in flight, and returns its entries (none: nothing to cut, and the batch stays open).
   */
  async closeBatch(batch: number): Promise<JournalEntry[]> {
    return (await this.cutBatch(batch)).map(({ seq, bytes }) => decodeJournalEntry(seq, bytes));
  }

  /** closeBatch with the entries as stored (the anchorer builds the anchor from their bytes). */
  cutBatch(batch: number): Promise<StoredEntry[]> {
    return this.serialised(async () => {
      const entries = await this.storedEntriesOf(batch);
      if (entries.length > 0) this.state.cut(batch);
      return entries;
    });
  }

  /**
   * Stops intake for good: the chain holds what this service did not anchor, so nothing accepted
   * from now on could be anchored (docs/runbook.md says what an operator does then).
   */
  halt(reason: string): void {
    this.haltedBecause ??= reason;
  }

  /** True once intake has stopped for good. */
  get halted(): boolean {
    return this.haltedBecause !== undefined;
  }

  /** Records that every batch up to `batch` is anchored (nothing joins a batch once it is cut). */
  anchoredThrough(batch: number): void {
    for (let b = this.anchoredBatch + 1; b <= batch; b++) {
      const share = this.state.share(b);
      this.anchored.submissions += share?.entries ?? 0;
      this.anchored.events += share?.events ?? 0;
    }
    this.anchoredBatch = Math.max(this.anchoredBatch, batch);
  }

  /** The accepted submission of (signer, nonce), if there is one (committed: on disk). */
  async submissionOf(signer: Hex, nonce: Hex): Promise<JournalEntry | undefined> {
    const seq = this.state.usedNonce(undefined, signer, nonce);
    return seq === undefined ? undefined : this.entry(seq);
  }

  /**
   * Journal entries of one batch, in acceptance order: its run (less the priority entries of
   * earlier batches accepted meanwhile), then the priority entries placed into it afterwards.
   */
  async entriesOf(batch: number): Promise<JournalEntry[]> {
    return (await this.storedEntriesOf(batch)).map(({ seq, bytes }) => decodeJournalEntry(seq, bytes));
  }

  /** entriesOf as stored: the entries' bytes, not decoded. */
  async storedEntriesOf(batch: number): Promise<StoredEntry[]> {
    const share = this.state.share(batch);
    const entries: StoredEntry[] = [];
    if (share?.first !== undefined) {
      for await (const stored of this.journal.entries({ from: share.first, to: share.end }))
        if (journalEntryBatch(stored.seq, stored.bytes) === batch) entries.push(stored);
    }
    for (const seq of share?.late ?? []) entries.push({ seq, bytes: (await this.journal.entry(seq))! });
    return entries;
  }

  /** One group, then the next in its own turn of the queue: a batch can be cut between two groups under sustained load. */
  private async commitWaiting(): Promise<void> {
    await this.commitGroup(this.waiting.splice(0, MAX_GROUP));
    if (this.waiting.length > 0) void this.serialised(() => this.commitWaiting());
    else this.committing = false; // synchronous with the emptiness check: a later accept schedules anew
  }

  private async commitGroup(waiting: Waiting[]): Promise<void> {
    const group = this.state.newGroup();
    const stored: StoredEntry[] = [];
    const done: { waiting: Waiting; result: AcceptResult }[] = [];
    for (const one of waiting) {
      try {
        done.push({ waiting: one, result: await this.applyOne(one, group, stored) });
      } catch (error) {
        one.reject(error); // nothing of it reached the group
      }
    }
    if (stored.length > 0) {
      try {
        await this.journal.append(stored);
      } catch (error) {
        for (const { waiting } of done) waiting.reject(error);
        return;
      }
      this.state.commit(group);
      this.acceptedEvents += newEvents(done.map(({ result }) => result));
    }
    for (const { waiting, result } of done) waiting.resolve(result);
    if (group.closedBatch) this.onBatchFull?.();
  }

  /** Applies one submission on top of the group and stages its journal entry. */
  private async applyOne({ signer, check, submission }: Waiting, group: StagedGroup, stored: StoredEntry[]): Promise<AcceptResult> {
    const earlier = this.state.usedNonce(group, signer, submission.nonce);
    if (earlier !== undefined) {
      const entry = group.entries.get(earlier) ?? (await this.entry(earlier));
      // only a resend of the same request is answered with its result; other events under a used nonce would be lost
      if (!sameRequest(entry.submission, submission)) {
        throw new TransitionError(
          "DUPLICATE_NONCE",
          `nonce ${submission.nonce} of ${signer} was used for another request (other events or another deadline, entry ${earlier}): sign this one under a new nonce, or resend the first as it was`,
          0,
        );
      }
      return { entry, duplicate: true };
    }
    // after the resend check: a resend answers with its first result even once its deadline is near
    checkDeadline(this.policy, submission.deadline, Math.floor(this.clock() / 1000));

    const bytes = submissionLength(submission);
    const priority = isPriority(submission.events);
    const counters = group.counters;
    const reader = this.state.reader(group);
    let outcome = applySubmission(reader, { signer, roles: check.roles, batch: counters.openBatch, slots: this.slots }, submission);
    // what it applies, not what it asks (accept() checked that): re-issuances add a SUPERSEDE each
    checkFitsOneBatch(this.policy, outcome.applied.length, bytes, priority);
    const batch = this.batchFor(group, reader, outcome, bytes, priority);
    if (batch !== counters.openBatch) outcome = moveToBatch(outcome, batch); // its records carry that number
    // the open batch is full: this submission starts the next one
    if (batch > counters.openBatch) group.closedBatch = true;
    const { applied, changes } = outcome;
    // journalled and anchored with v as 27/28, as any Solidity auditor reads it
    const accepted = { ...submission, signature: canonicalSignature(submission.signature), intakeBlock: check.block };
    const entry: JournalEntry = { seq: counters.nextSeq, batch, signer, submission: accepted, applied };
    this.state.stage(group, entry, changes, bytes);
    const encoded = encodeJournalEntry(entry);
    stored.push({ seq: entry.seq, bytes: encoded });
    // the records as encoded in the entry go into the record table as they are (later ones win)
    applied.forEach((draft, i) => group.rawRecords.set(draft.record.index, journalRecordBytes(encoded, applied.length, i)));
    return { entry, duplicate: false };
  }

  /**
   * The batch a submission joins: the open one, or the next when it is full; a priority submission
   * the earliest batch not yet cut with room for it that comes no earlier than the batches the
   * records it changes were last changed in (so that each record's changes stay in batch order).
   */
  private batchFor(group: StagedGroup, before: StateReader, outcome: SubmissionOutcome, bytes: number, priority: boolean): number {
    const { openBatch, cutThrough } = group.counters;
    const events = outcome.applied.length;
    const fits = (batch: number) => {
      const share = this.state.share(batch, group);
      return !share || !overflows(this.policy, share, events, bytes, priority);
    };
    if (priority) {
      let earliest = cutThrough + 1;
      for (const { record } of outcome.applied) earliest = Math.max(earliest, before.record(record.index)?.batch ?? 0);
      for (let batch = earliest; batch < openBatch; batch++) if (fits(batch)) return batch;
    }
    return fits(openBatch) ? openBatch : openBatch + 1;
  }

  private async entry(seq: number): Promise<JournalEntry> {
    return decodeJournalEntry(seq, (await this.journal.entry(seq))!);
  }

  private serialised<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** Events the results add to the journal (a resend adds none). */
function newEvents(results: AcceptResult[]): number {
  return results.reduce((sum, { entry, duplicate }) => sum + (duplicate ? 0 : entry.applied.length), 0);
}
