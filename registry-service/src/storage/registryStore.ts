import { Level } from "level";
import {
  applySubmission,
  EventKind,
  type AppliedDraft,
  type Hex,
  type StateReader,
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

export interface AcceptResult {
  entry: JournalEntry;
  /** true when this (signer, nonce) was accepted before: the original entry is returned */
  duplicate: boolean;
}

type Json = Record<string, unknown>;
/** classic-level (what `level` is on Node) honours `sync: true`; abstract-level's types omit it. */
const SYNCED = { sync: true } as Record<string, unknown>;
type PutOperation = { type: "put"; sublevel: unknown; key: string; value: unknown };
const key = (n: number) => n.toString(16).padStart(13, "0"); // sorts numerically up to 2^52

/**
 * The service's durable state in LevelDB, one sublevel per key space. Every accepted submission is
 * written in ONE synced batch together with the state it changes (journal entry, nonce, records,
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
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly db: Level<string, Json>) {
    const json = { valueEncoding: "json" } as const;
    this.meta = db.sublevel<string, number>("meta", json);
    this.journal = db.sublevel<string, JournalEntry>("journal", json);
    this.nonces = db.sublevel<string, number>("nonces", json);
    this.records = db.sublevel<string, StatusRecord>("records", json);
    this.devices = db.sublevel<string, number>("devices", json);
    this.holders = db.sublevel<string, number>("holders", json);
  }

  static async open(location: string): Promise<RegistryStore> {
    const db = new Level<string, Json>(location, { valueEncoding: "json" });
    await db.open();
    return new RegistryStore(db);
  }

  close(): Promise<void> {
    return this.db.close();
  }

  /** The batch that newly accepted submissions join (1 on a fresh store). */
  async openBatch(): Promise<number> {
    return (await this.meta.get("openBatch")) ?? 1;
  }

  /** Current (pending, not necessarily anchored) record of an index. */
  record(index: number): Promise<StatusRecord | undefined> {
    return this.records.get(key(index));
  }

  /**
   * Journals a signed submission and its effects, or returns the original entry for a resend.
   * Throws TransitionError (nothing written) when it breaks a rule of docs/spec.md 4.3.
   */
  accept(signer: Hex, roles: SubmissionContext["roles"], submission: Submission): Promise<AcceptResult> {
    return this.serialised(async () => {
      const earlier = await this.nonces.get(nonceKey(signer, submission.nonce));
      if (earlier !== undefined) return { entry: (await this.journal.get(key(earlier)))!, duplicate: true };

      const batch = await this.openBatch();
      const state = await this.prefetch(submission);
      const { applied, changes } = applySubmission(state, { signer, roles, batch }, submission);
      const seq = (await this.meta.get("nextSeq")) ?? 0;
      const entry: JournalEntry = { seq, batch, signer, submission, applied };
      const put = (sublevel: unknown, key: string, value: unknown): PutOperation => ({ type: "put", sublevel, key, value });
      const operations = [
        put(this.journal, key(seq), entry),
        put(this.nonces, nonceKey(signer, submission.nonce), seq),
        put(this.meta, "nextSeq", seq + 1),
        put(this.meta, "nextIndex", changes.nextIndex),
        ...[...changes.records].map(([index, record]) => put(this.records, key(index), record)),
        ...[...changes.devices].map(([device, index]) => put(this.devices, device, index)),
        ...[...changes.holders].map(([holder, index]) => put(this.holders, holder, index)),
      ];
      await this.db.batch(operations as never, SYNCED);
      return { entry, duplicate: false };
    });
  }

  /**
   * Closes the open batch so that later submissions join the next one; returns the closed batch's
   * number and entries, or undefined when it is empty (nothing to anchor).
   */
  cutBatch(): Promise<{ batch: number; entries: JournalEntry[] } | undefined> {
    return this.serialised(async () => {
      const batch = await this.openBatch();
      const entries = await this.entriesOf(batch);
      if (entries.length === 0) return undefined;
      await this.meta.put("openBatch", batch + 1, SYNCED);
      return { batch, entries };
    });
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

  /** Loads, into a synchronous reader, every key the submission's events can touch. */
  private async prefetch(submission: Submission): Promise<StateReader> {
    const records = new Map<number, StatusRecord>();
    const devices = new Map<Hex, number>();
    const holders = new Map<Hex, number>();
    const loadRecord = async (index: number | undefined) => {
      if (index === undefined || records.has(index)) return;
      const record = await this.record(index);
      if (record) records.set(index, record);
    };
    for (const event of submission.events) {
      if (event.kind === EventKind.Issue || event.kind === EventKind.LockDevice) {
        const onDevice = await this.devices.get(event.deviceKeyHash);
        if (onDevice !== undefined) devices.set(event.deviceKeyHash, onDevice);
        await loadRecord(onDevice);
      }
      if (event.kind === EventKind.Issue) {
        const ofHolder = await this.holders.get(event.holderRef);
        if (ofHolder !== undefined) holders.set(event.holderRef, ofHolder);
        await loadRecord(ofHolder);
      } else if (event.kind !== EventKind.LockDevice) {
        await loadRecord(event.index);
      }
    }
    const nextIndex = (await this.meta.get("nextIndex")) ?? 0;
    return {
      record: (index) => records.get(index),
      deviceIndex: (device) => devices.get(device),
      holderIndex: (holder) => holders.get(holder),
      nextIndex: () => nextIndex,
      seen: () => false, // checked against the nonce sublevel before
    };
  }

  private serialised<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

function nonceKey(signer: Hex, nonce: Hex): string {
  return `${signer.toLowerCase()}:${nonce.toLowerCase()}`;
}
