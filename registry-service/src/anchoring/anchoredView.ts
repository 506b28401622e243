import { RECORD_LENGTH, StatusTree, type BulkNodeHasher, type Hasher, type PreparedUpdate, type Status, type StatusRecord } from "../core";
import { latestAnchoredBatch, type BatchRecord, type Journal } from "../journal";
import { AnchorError } from "./errors";
import type { BatchLeaves } from "./prepareBatch";
import type { TreeSnapshot } from "./treeSnapshot";

/** The records as of the latest anchored batch (intake's AnchoredRecords; a RecordTable does too). */
export interface AnchoredRecordStore {
  readonly size: number;
  get(index: number): StatusRecord | undefined;
  raw(index: number): Uint8Array | undefined;
  status(index: number): Status;
  /** `raw` is now the anchored record of `index` */
  setRaw(index: number, raw: Uint8Array): void;
  indexes(changedAfter?: number): Iterable<number>;
}

export interface AnchoredViewSources {
  hasher: Hasher;
  depth: number;
  /** the records as of the latest anchored batch (IntakeState.rebuild gives them) */
  records: AnchoredRecordStore;
  journal: Journal;
  bulk?: BulkNodeHasher;
  /** the tree as of an earlier anchored batch, saved at the last graceful stop */
  snapshot?: TreeSnapshot;
}

/**
 * The registry as of its latest anchored batch: the status tree, the records, and where that batch
 * was anchored. What proofs are served from. It moves in one synchronous step when a batch is
 * anchored (advance), so a reader sees record, proof and root of one batch, never a mix.
 */
export class AnchoredView {
  private readonly listeners: ((changed: readonly number[]) => void)[] = [];

  private constructor(
    readonly tree: StatusTree,
    private readonly records: AnchoredRecordStore,
    /** the latest anchored batch (undefined: only the empty tree of batch 0) */
    private latest: BatchRecord | undefined,
  ) {}

  /**
   * Rebuilds the tree from the anchored records, starting from `snapshot` when it is the tree of an
   * earlier anchored batch (then only records changed since are hashed), else from scratch; the
   * root must come out as the latest anchored batch's.
   */
  static async open(sources: AnchoredViewSources): Promise<AnchoredView> {
    const { hasher, depth, records, journal, snapshot } = sources;
    const anchored = await latestAnchoredBatch(journal);
    const fresh = () => caughtUp(new StatusTree(hasher, depth, 16, sources.bulk), hasher, records, 0);
    const fitting = snapshot && (await snapshotFits(snapshot, depth, anchored, journal)) ? snapshot : undefined;
    let tree = fitting ? caughtUp(fitting.tree, hasher, records, fitting.batch) : fresh();
    if (fitting && tree.root !== anchored!.statusRoot) tree = fresh(); // the snapshot misled: start from nothing
    if (anchored && tree.root !== anchored.statusRoot) {
      throw new AnchorError(
        "CHAIN_DIVERGED",
        `the journal gives root ${tree.root}, batch ${anchored.batch} was anchored as ${anchored.statusRoot}`,
      );
    }
    return new AnchoredView(tree, records, anchored);
  }

  /** The latest anchored batch's record (undefined before the first anchor). */
  get anchor(): BatchRecord | undefined {
    return this.latest;
  }

  /** The anchored record of an index. */
  record(index: number): StatusRecord | undefined {
    return this.records.get(index);
  }

  /** Indexes handed out as of the anchored batch. */
  get size(): number {
    return this.records.size;
  }

  /** An index's anchored status (NONE when unused), without decoding its record. */
  status(index: number): Status {
    return this.records.status(index);
  }

  /** Calls `listener` after each advance, in the same synchronous step, with the indexes the batch changed (the lists follow it). */
  onAdvance(listener: (changed: readonly number[]) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Makes `anchored` the view's batch: the tree takes the batch's update (prepared before the
   * anchor, or its leaves after a restart), the records take its changes, all synchronously.
   */
  advance(anchored: BatchRecord, changes: BatchLeaves, update?: PreparedUpdate): void {
    if (update) update.commit();
    else this.tree.applyLeaves(changes.indexes, changes.leaves);
    changes.indexes.forEach((index, i) => this.records.setRaw(index, changes.records.subarray(i * RECORD_LENGTH, (i + 1) * RECORD_LENGTH)));
    this.latest = anchored;
    for (const listener of this.listeners) listener(changes.indexes);
  }
}

/** True when `snapshot` is the tree of an anchored batch no later than the latest one (then it only needs catching up). */
async function snapshotFits(snapshot: TreeSnapshot, depth: number, anchored: BatchRecord | undefined, journal: Journal): Promise<boolean> {
  if (snapshot.tree.depth !== depth || snapshot.batch < 1 || snapshot.batch > (anchored?.batch ?? 0)) return false;
  return (await journal.batch(snapshot.batch))?.statusRoot === snapshot.tree.root;
}

/** `tree` with the leaves of the anchored records changed after batch `from` set. */
function caughtUp(tree: StatusTree, hasher: Hasher, records: AnchoredRecordStore, from: number): StatusTree {
  const indexes = [...records.indexes(from)];
  const leaves = new Uint8Array(indexes.length * 32);
  indexes.forEach((index, i) => leaves.set(hasher.leaf(records.raw(index)!), i * 32));
  tree.applyLeaves(indexes, leaves);
  return tree;
}
