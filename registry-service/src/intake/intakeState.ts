import { RecordTable, type Hex, type RecordKeyIndex, type StateChanges, type StateReader, type StatusRecord } from "../core";
import { AnchoredRecords } from "./anchoredRecords";
import type { Backlog } from "./batchPolicy";
import { JournalError, journalEffects, latestAnchoredBatch, type Journal, type JournalEffects, type JournalEntry } from "../journal";

/** Where intake stands; derived from the journal and the batch records on open. */
export interface Counters {
  nextIndex: number;
  nextSeq: number;
  /** the batch regular submissions join */
  openBatch: number;
  /** the newest batch handed to the anchorer (0: none): nothing joins it or an earlier one any more */
  cutThrough: number;
}

/**
 * One batch's share of the journal: the run of entries accepted while it was open (which may also
 * hold priority entries of earlier batches), the priority entries placed into it later, and how
 * much of one anchor they fill.
 */
export interface BatchShare {
  /** first sequence number of its run, and one past the last (absent: no regular entry) */
  first?: number;
  end: number;
  /** priority entries placed into it after its run ended, in order */
  late: number[];
  entries: number;
  events: number;
  bytes: number;
}

/** A commit group's changes on top of the intake state, until their write is on disk. */
export interface StagedGroup {
  records: Map<number, StatusRecord>;
  /** the same records' canonical bytes, from the encoded journal entries */
  rawRecords: Map<number, Uint8Array>;
  devices: Map<Hex, number>;
  nonces: Map<string, number>;
  entries: Map<number, JournalEntry>;
  counters: Counters;
  /** the shares of the batches the group adds to (copies, committed with the group) */
  shares: Map<number, BatchShare>;
  /** a submission of the group started a new batch, closing the full one */
  closedBatch: boolean;
}

/** What opening a journal gives: the intake state, and the records as of the latest anchored batch. */
export interface RebuiltState {
  state: IntakeState;
  /** the records as of the latest anchored batch (0: none), over the state's own records */
  anchored: { records: AnchoredRecords; batch: number };
}

/** The state's structures as they are in memory (the live ones, not copies): what a checkpoint writes and fills (stateCheckpoint.ts). */
export interface IntakeParts {
  records: RecordTable;
  anchored: AnchoredRecords;
  devices: RecordKeyIndex;
  /** nonceKey(signer, nonce) -> sequence number */
  nonces: Map<string, number>;
  shares: Map<number, BatchShare>;
}

/**
 * Everything intake decides with, in memory: current records (pending changes included), device
 * bindings, used nonces, each batch's share of the journal, and the counters.
 * Derived from the journal alone, so it is rebuilt by one scan on open.
 */
export class IntakeState {
  readonly records = new RecordTable();
  /** the same records as of the latest anchored batch: what the anchored view serves */
  readonly anchored = new AnchoredRecords(this.records);
  /** device -> the index last issued to it; keys read from the records themselves (a record's device never changes) */
  private readonly devices = this.records.deviceIndex();
  /** (signer, nonce) -> sequence number of the entry that used it */
  private readonly nonces = new Map<string, number>();
  private readonly shares = new Map<number, BatchShare>();
  counters: Counters = { nextIndex: 0, nextSeq: 0, openBatch: 1, cutThrough: 0 };

  /**
   * One scan of the journal: each entry's recorded effects (what the state machine decided at
   * intake) are copied in, no event is re-run. Records of entries in batches up to the latest
   * anchored one also go into the anchored table.
   */
  static async rebuild(journal: Journal): Promise<RebuiltState> {
    const state = new IntakeState();
    const anchored = { records: state.anchored, batch: (await latestAnchoredBatch(journal))?.batch ?? 0 };
    for await (const { seq, bytes } of journal.entries()) {
      const effects = readEffects(seq, bytes);
      // for one index, journal order is batch order (a priority entry joins no batch before its record's last one)
      const isAnchored = effects.batch <= anchored.batch;
      if (!isAnchored) for (const { index } of effects.records) state.anchored.beforeOverwrite(index);
      state.replay(seq, effects);
      if (isAnchored) for (const { index } of effects.records) state.anchored.anchoredAsIs(index);
    }
    // what was handed to the anchorer stays cut (an open batch cut with nothing after it: the next one opens)
    const latest = await journal.latestBatch();
    if (latest) state.cut(latest.batch);
    return { state, anchored };
  }

  /** The state's structures, for a checkpoint (with `counters`, everything this state holds). */
  parts(): IntakeParts {
    return { records: this.records, anchored: this.anchored, devices: this.devices, nonces: this.nonces, shares: this.shares };
  }

  private replay(seq: number, effects: JournalEffects): void {
    for (const { index, raw } of effects.records) this.records.setRaw(index, raw);
    for (const { deviceKeyHash, index } of effects.issued) {
      this.devices.set(deviceKeyHash, index);
      this.counters.nextIndex = Math.max(this.counters.nextIndex, index + 1);
    }
    this.nonces.set(nonceKey(effects.signer, effects.nonce), seq);
    addToShare(this.shares, this.counters, seq, effects.batch, effects.records.length, effects.submissionBytes);
  }

  /** An empty group to stage submissions in. */
  newGroup(): StagedGroup {
    return {
      records: new Map(),
      rawRecords: new Map(),
      devices: new Map(),
      nonces: new Map(),
      entries: new Map(),
      shares: new Map(),
      counters: { ...this.counters },
      closedBatch: false,
    };
  }

  /** The entry that used (signer, nonce), in the group (if given) or before it. */
  usedNonce(group: StagedGroup | undefined, signer: Hex, nonce: Hex): number | undefined {
    const key = nonceKey(signer, nonce);
    return group?.nonces.get(key) ?? this.nonces.get(key);
  }

  /** Adds an accepted entry's changes to the group. */
  stage(group: StagedGroup, entry: JournalEntry, changes: StateChanges, submissionBytes: number): void {
    const share = this.share(entry.batch, group);
    // copied on first write: the committed share stays as it is until the group is on disk
    if (share && !group.shares.has(entry.batch)) group.shares.set(entry.batch, { ...share, late: [...share.late] });
    addToShare(group.shares, group.counters, entry.seq, entry.batch, entry.applied.length, submissionBytes);
    group.counters.nextIndex = changes.nextIndex;
    group.nonces.set(nonceKey(entry.signer, entry.submission.nonce), entry.seq);
    group.entries.set(entry.seq, entry);
    for (const [index, record] of changes.records) group.records.set(index, record);
    for (const [device, index] of changes.devices) group.devices.set(device, index);
  }

  /** Makes a staged group (now on disk) the state. */
  commit(group: StagedGroup): void {
    for (const [index, raw] of group.rawRecords) {
      this.anchored.beforeOverwrite(index); // intake never changes an anchored batch
      this.records.setRaw(index, raw);
    }
    for (const [device, index] of group.devices) this.devices.set(device, index);
    for (const [nonce, seq] of group.nonces) this.nonces.set(nonce, seq);
    for (const [batch, share] of group.shares) this.shares.set(batch, share);
    this.counters = { ...group.counters };
  }

  /** The state as the group's uncommitted changes on top of the committed ones. */
  reader(group: StagedGroup): StateReader {
    return {
      record: (index) => group.records.get(index) ?? this.records.get(index),
      deviceIndex: (device) => group.devices.get(device) ?? this.devices.get(device),
      nextIndex: () => group.counters.nextIndex,
      seen: () => false, // checked against the nonces (group and state) before
    };
  }

  /** A batch's share of the journal (the group's staged one first), or undefined when it has no entry. */
  share(batch: number, group?: StagedGroup): BatchShare | undefined {
    return group?.shares.get(batch) ?? this.shares.get(batch);
  }

  /** Hands `batch` to the anchorer: nothing joins it, or any batch before it, from now on; the open batch moves on past it. */
  cut(batch: number): void {
    const { openBatch, cutThrough } = this.counters;
    this.counters = { ...this.counters, cutThrough: Math.max(cutThrough, batch), openBatch: batch >= openBatch ? batch + 1 : openBatch };
  }

  /** Entries and their events in batches up to `batch` (all of them by default), for the backlog. */
  countThrough(batch = Infinity): Backlog {
    const count = { submissions: 0, events: 0 };
    for (const [b, share] of this.shares) {
      if (b > batch) continue;
      count.submissions += share.entries;
      count.events += share.events;
    }
    return count;
  }
}

/**
 * Counts journal entry `seq` (in `batch`, with its applied events and calldata bytes) into the
 * batch's share: into its run when it is the open batch or a newer one, as a late (priority) entry
 * when it is an earlier one.
 */
function addToShare(shares: Map<number, BatchShare>, counters: Counters, seq: number, batch: number, events: number, bytes: number): void {
  let share = shares.get(batch);
  if (!share) shares.set(batch, (share = { end: seq, late: [], entries: 0, events: 0, bytes: 0 }));
  if (batch < counters.openBatch) share.late.push(seq);
  else {
    share.first ??= seq;
    share.end = seq + 1;
    counters.openBatch = batch;
  }
  share.entries += 1;
  share.events += events;
  share.bytes += bytes;
  counters.nextSeq = seq + 1;
}

/** An entry's effects; an entry that cannot be read makes the journal UNREADABLE_DATA. */
function readEffects(seq: number, bytes: Uint8Array): JournalEffects {
  try {
    return journalEffects(seq, bytes);
  } catch (error) {
    throw new JournalError("UNREADABLE_DATA", (error as Error).message);
  }
}

/** The nonces' key: "signer:nonce", lower-case hex. */
export function nonceKey(signer: Hex, nonce: Hex): string {
  return `${signer.toLowerCase()}:${nonce.toLowerCase()}`;
}
