import { createHash } from "node:crypto";
import { bytesToHex } from "../core";
import { latestAnchoredBatch, type BatchRecord, type Journal } from "./journal";

/**
 * What identifies a journal's content when it ends at entry `nextSeq - 1`: state derived from it
 * (a checkpoint) is tied to this. Entries are only ever appended, and rewritten only by a re-base on
 * a correction, which also replaces the batch records; so a journal that has the same number of
 * entries, the same last entry and the same latest batch records as a position holds what it held
 * when the position was taken.
 */
export interface JournalPosition {
  /** the entries are 0 .. nextSeq - 1 */
  nextSeq: number;
  /** the newest batch record (0: none) */
  latestBatch: number;
  /** the newest anchored batch (0: none) */
  anchoredBatch: number;
  /** sha256 of entry nextSeq - 1 (of no bytes for an empty journal) */
  lastEntry: Uint8Array;
  /** sha256 of what the newest batch record and the newest anchored one say (state, roots, entries, transaction) */
  batches: Uint8Array;
}

/** The journal's position if it ends at entry `nextSeq - 1`; else a sentence saying where it does not. */
export async function journalPositionAt(journal: Journal, nextSeq: number): Promise<JournalPosition | string> {
  if ((await journal.entry(nextSeq)) !== undefined) return `the journal has entries from ${nextSeq} on`;
  const last = nextSeq > 0 ? await journal.entry(nextSeq - 1) : new Uint8Array(0);
  if (last === undefined) return `the journal ends before entry ${nextSeq - 1}`;
  const [latest, anchored] = await Promise.all([journal.latestBatch(), latestAnchoredBatch(journal)]);
  return {
    nextSeq,
    latestBatch: latest?.batch ?? 0,
    anchoredBatch: anchored?.batch ?? 0,
    lastEntry: sha256(last),
    batches: sha256(new TextEncoder().encode(JSON.stringify([facts(latest), facts(anchored)]))),
  };
}

/** How `now` differs from `then` (undefined: the same position), in a sentence. */
export function positionChange(then: JournalPosition, now: JournalPosition): string | undefined {
  if (now.nextSeq !== then.nextSeq) return `the journal ends at entry ${now.nextSeq - 1}, not ${then.nextSeq - 1}`;
  if (bytesToHex(now.lastEntry) !== bytesToHex(then.lastEntry)) return `the journal's entry ${now.nextSeq - 1} is another one`;
  if (
    now.latestBatch !== then.latestBatch ||
    now.anchoredBatch !== then.anchoredBatch ||
    bytesToHex(now.batches) !== bytesToHex(then.batches)
  )
    return `the journal's batch records changed (latest batch ${now.latestBatch}, anchored ${now.anchoredBatch}; were ${then.latestBatch}, ${then.anchoredBatch})`;
  return undefined;
}

/** The fields of a batch record that any later write to it or above it changes, in a fixed order. */
function facts(record: BatchRecord | undefined): unknown[] {
  if (!record) return [];
  const { batch, state, previousRoot, statusRoot, eventDataHash, lastSeq, transactionHash, blockNumber, correction } = record;
  return [
    batch,
    state,
    previousRoot,
    statusRoot,
    eventDataHash,
    lastSeq,
    transactionHash ?? null,
    blockNumber ?? null,
    correction ? [correction.base, correction.through] : null,
  ];
}

function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(bytes).digest());
}
