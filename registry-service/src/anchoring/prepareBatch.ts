import {
  bytesToHex,
  encodeBatchData,
  eventDataHash,
  EventTree,
  type AppliedEvent,
  positionedEvents,
  recordLeaves,
  type Hasher,
  type PreparedUpdate,
  type StatusRecord,
  type StatusTree,
} from "../core";
import type { BatchRecord, JournalEntry } from "../journal";

/** The changed records' leaves, hashed once: previewed before the anchor, applied after it. */
export interface BatchLeaves {
  records: StatusRecord[];
  indexes: number[];
  leaves: Uint8Array;
}

/** Everything one anchor transaction carries (a batch record to be), plus what applying it needs. */
export type PreparedBatch = Omit<BatchRecord, "state" | "transactionHash" | "blockNumber" | "lastSeq"> & {
  applied: AppliedEvent[];
  changes: BatchLeaves;
  /** the status tree's update to `statusRoot`, computed: applied once anchored, without hashing again */
  update: PreparedUpdate;
};

/** The records a batch's journal entries changed, with their leaves. */
export function batchLeaves(hasher: Hasher, entries: readonly JournalEntry[]): BatchLeaves {
  const records = entries.flatMap((entry) => entry.applied.map((event) => event.record));
  return { records, ...recordLeaves(hasher, records) };
}

/**
 * Turns a cut batch's journal entries into its anchor: positions the applied events, builds the
 * event tree, computes the status root the changed records give on top of `tree` (which must hold
 * the previous batch's state and is left unchanged until `update` is committed) and encodes the
 * calldata (docs/spec.md 4.4, 5.1).
 */
export function prepareBatch(hasher: Hasher, tree: StatusTree, batch: number, entries: readonly JournalEntry[]): PreparedBatch {
  const applied = positionedEvents(entries);
  const events = new EventTree(hasher, applied);
  const previousRoot = tree.root;
  const changes = batchLeaves(hasher, entries);
  const update = tree.prepareLeaves(changes.indexes, changes.leaves);
  const data = encodeBatchData(entries.map((entry) => entry.submission));
  return {
    batch,
    previousRoot,
    statusRoot: update.root,
    eventRoot: events.root,
    eventCount: applied.length,
    eventData: bytesToHex(data),
    eventDataHash: eventDataHash(hasher, data),
    applied,
    changes,
    update,
  };
}
