import {
  APPLIED_EVENT_LENGTH,
  BATCH_FORMAT_VERSION,
  BATCH_HEADER_LENGTH,
  bytesToHex,
  eventDataHash,
  eventTreeRoot,
  readUint,
  RECORD_LENGTH,
  writeUint,
  type Hasher,
  type PreparedUpdate,
  type StatusTree,
} from "../core";
import { journalEntryParts, type BatchRecord, type StoredEntry } from "../journal";

/** The changed records (canonical bytes) and their leaves, hashed once: previewed before the anchor, applied after it. */
export interface BatchLeaves {
  indexes: number[];
  /** leaf i is bytes [32 i, 32 i + 32) */
  leaves: Uint8Array;
  /** record i is bytes [82 i, 82 i + 82), in order (later ones win) */
  records: Uint8Array;
}

/** Everything one anchor transaction carries (a batch record to be), plus what applying it needs. */
export type PreparedBatch = Omit<BatchRecord, "state" | "transactionHash" | "blockNumber" | "lastSeq"> & {
  changes: BatchLeaves;
  /** the status tree's update to `statusRoot`, computed: applied once anchored, without hashing again */
  update: PreparedUpdate;
};

/** The records a batch's journal entries changed, with their leaves, straight from the entries' bytes. */
export function batchLeaves(hasher: Hasher, entries: readonly StoredEntry[]): BatchLeaves {
  const raws = entries.flatMap(({ seq, bytes }) => journalEntryParts(seq, bytes).applied.map((applied) => applied.record));
  return leavesOf(hasher, raws);
}

function leavesOf(hasher: Hasher, raws: readonly Uint8Array[]): BatchLeaves {
  const records = new Uint8Array(raws.length * RECORD_LENGTH);
  const leaves = new Uint8Array(raws.length * 32);
  const indexes = new Array<number>(raws.length);
  raws.forEach((raw, i) => {
    records.set(raw, i * RECORD_LENGTH);
    leaves.set(hasher.leaf(raw), i * 32);
    indexes[i] = readUint(raw, 0, 8);
  });
  return { indexes, leaves, records };
}

/**
 * Turns a cut batch's journal entries (their bytes, in batch order) into its anchor: the event data
 * is the entries' submissions as journalled, the event tree's leaves and the status tree's leaves
 * are hashed from the applied events' and records' bytes, and the status root is computed on top of
 * `tree` (which must hold the previous batch's state, or `after`'s when that batch is still in
 * flight) and left uncommitted until `update` is (docs/spec.md 4.4, 5.1). Nothing is decoded into
 * objects: it is the same anchor the events' objects give (tested).
 */
export function prepareBatch(
  hasher: Hasher,
  tree: StatusTree,
  batch: number,
  entries: readonly StoredEntry[],
  after?: PreparedUpdate,
): PreparedBatch {
  const parts = entries.map(({ seq, bytes }) => journalEntryParts(seq, bytes));
  const events = parts.reduce((sum, part) => sum + part.applied.length, 0);
  const eventLeaves = new Uint8Array(events * 32);
  let position = 0;
  const preimage = new Uint8Array(APPLIED_EVENT_LENGTH); // position(4) || kind(1) || signer(20) || nonce(32) || record(82)
  const raws: Uint8Array[] = [];
  for (const { signer, nonce, applied } of parts) {
    preimage.set(signer, 5);
    preimage.set(nonce, 25);
    for (const { kind, record } of applied) {
      writeUint(preimage, 0, 4, position);
      preimage[4] = kind;
      preimage.set(record, 57);
      eventLeaves.set(hasher.leaf(preimage), 32 * position++);
      raws.push(record);
    }
  }
  const data = batchData(parts.map((part) => part.submission));
  const previousRoot = after ? after.root : tree.root;
  const changes = leavesOf(hasher, raws);
  const update = tree.prepareLeaves(changes.indexes, changes.leaves, after);
  return {
    batch,
    previousRoot,
    statusRoot: update.root,
    eventRoot: eventTreeRoot(hasher, eventLeaves),
    eventCount: events,
    eventData: bytesToHex(data),
    eventDataHash: eventDataHash(hasher, data),
    changes,
    update,
  };
}

/** encodeBatchData over submissions already encoded: version(1) || submissionCount(4) || submissions. */
function batchData(submissions: readonly Uint8Array[]): Uint8Array {
  const length = submissions.reduce((sum, submission) => sum + submission.length, BATCH_HEADER_LENGTH);
  const out = new Uint8Array(length);
  out[0] = BATCH_FORMAT_VERSION;
  writeUint(out, 1, 4, submissions.length);
  let at = BATCH_HEADER_LENGTH;
  for (const submission of submissions) {
    out.set(submission, at);
    at += submission.length;
  }
  return out;
}
