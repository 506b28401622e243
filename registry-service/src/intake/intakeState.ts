import { HashIndex, RecordTable, type Hex, type StateChanges, type StateReader, type StatusRecord } from "../core";
import { JournalError, journalEffects, latestAnchoredBatch, type Journal, type JournalEffects, type JournalEntry } from "../journal";

/** Where intake stands; derived from the journal and the batch records on open. */
export interface Counters {
  nextIndex: number;
  nextSeq: number;
  openBatch: number;
  openEvents: number;
  openBytes: number;
}

/** A commit group's changes on top of the intake state, until their write is on disk. */
export interface StagedGroup {
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

/** What opening a journal gives: the intake state, and the records as of the latest anchored batch. */
export interface RebuiltState {
  state: IntakeState;
  anchored: { records: RecordTable; lastSeq: number };
}

/**
 * Everything intake decides with, in memory: current records (pending changes included), device
 * and holder bindings, used nonces, where each batch starts in the journal, and the counters.
 * Derived from the journal alone, so it is rebuilt by one scan on open.
 */
export class IntakeState {
  readonly records = new RecordTable();
  private readonly devices = new HashIndex();
  private readonly holders = new HashIndex();
  /** (signer, nonce) -> sequence number of the entry that used it */
  private readonly nonces = new Map<string, number>();
  /** first journal sequence number of each batch that has entries */
  private readonly batchStarts = new Map<number, number>();
  counters: Counters = { nextIndex: 0, nextSeq: 0, openBatch: 1, openEvents: 0, openBytes: 0 };

  /**
   * One scan of the journal: each entry's recorded effects (what the state machine decided at
   * intake) are copied in, no event is re-run. Records of entries up to the latest anchored batch
   * also go into the anchored table.
   */
  static async rebuild(journal: Journal): Promise<RebuiltState> {
    const state = new IntakeState();
    const anchored = { records: new RecordTable(), lastSeq: (await latestAnchoredBatch(journal))?.lastSeq ?? -1 };
    for await (const { seq, bytes } of journal.entries()) {
      let effects: JournalEffects;
      try {
        effects = journalEffects(seq, bytes);
      } catch (error) {
        throw new JournalError("UNREADABLE_DATA", (error as Error).message);
      }
      state.replay(seq, effects);
      if (seq <= anchored.lastSeq) for (const { index, raw } of effects.records) anchored.records.setRaw(index, raw);
    }
    const latest = await journal.latestBatch();
    if (latest && latest.batch >= state.counters.openBatch) {
      // the open batch was cut with nothing after it: the next submission opens the one after
      state.counters = { ...state.counters, openBatch: latest.batch + 1, openEvents: 0, openBytes: 0 };
    }
    return { state, anchored };
  }

  private replay(seq: number, effects: JournalEffects): void {
    for (const { index, raw } of effects.records) this.records.setRaw(index, raw);
    for (const { holderRef, deviceKeyHash, index } of effects.issued) {
      this.holders.set(holderRef, index);
      this.devices.set(deviceKeyHash, index);
      this.counters.nextIndex = Math.max(this.counters.nextIndex, index + 1);
    }
    this.nonces.set(nonceKey(effects.signer, effects.nonce), seq);
    if (!this.batchStarts.has(effects.batch)) this.batchStarts.set(effects.batch, seq);
    advance(this.counters, seq, effects.batch, effects.records.length, effects.submissionBytes);
  }

  /** An empty group to stage submissions in. */
  newGroup(): StagedGroup {
    return {
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
  }

  /** The entry that used (signer, nonce), in the group or before it. */
  usedNonce(group: StagedGroup, signer: Hex, nonce: Hex): number | undefined {
    const key = nonceKey(signer, nonce);
    return group.nonces.get(key) ?? this.nonces.get(key);
  }

  /** Adds an accepted entry's changes to the group. */
  stage(group: StagedGroup, entry: JournalEntry, changes: StateChanges, submissionBytes: number): void {
    if (!this.batchStarts.has(entry.batch) && !group.batchStarts.has(entry.batch)) group.batchStarts.set(entry.batch, entry.seq);
    advance(group.counters, entry.seq, entry.batch, entry.applied.length, submissionBytes);
    group.counters.nextIndex = changes.nextIndex;
    group.nonces.set(nonceKey(entry.signer, entry.submission.nonce), entry.seq);
    group.entries.set(entry.seq, entry);
    for (const [index, record] of changes.records) group.records.set(index, record);
    for (const [device, index] of changes.devices) group.devices.set(device, index);
    for (const [holder, index] of changes.holders) group.holders.set(holder, index);
  }

  /** Makes a staged group (now on disk) the state. */
  commit(group: StagedGroup): void {
    for (const [index, raw] of group.rawRecords) this.records.setRaw(index, raw);
    for (const [device, index] of group.devices) this.devices.set(device, index);
    for (const [holder, index] of group.holders) this.holders.set(holder, index);
    for (const [nonce, seq] of group.nonces) this.nonces.set(nonce, seq);
    for (const [batch, seq] of group.batchStarts) this.batchStarts.set(batch, seq);
    this.counters = { ...group.counters };
  }

  /** The state as the group's uncommitted changes on top of the committed ones. */
  reader(group: StagedGroup): StateReader {
    return {
      record: (index) => group.records.get(index) ?? this.records.get(index),
      deviceIndex: (device) => group.devices.get(device) ?? this.devices.get(device),
      holderIndex: (holder) => group.holders.get(holder) ?? this.holders.get(holder),
      nextIndex: () => group.counters.nextIndex,
      seen: () => false, // checked against the nonces (group and state) before
    };
  }

  /** The sequence numbers [from, to) of a batch's entries, or undefined when it has none. */
  entryRange(batch: number): { from: number; to: number } | undefined {
    const from = this.batchStarts.get(batch);
    return from === undefined ? undefined : { from, to: this.batchStarts.get(batch + 1) ?? this.counters.nextSeq };
  }

  /** Closes the open batch to new submissions. */
  closeOpenBatch(): void {
    this.counters = { ...this.counters, openBatch: this.counters.openBatch + 1, openEvents: 0, openBytes: 0 };
  }
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
