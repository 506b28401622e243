import { StatusTree, type Hasher, type Hex, type ParallelHasher, type PreparedUpdate } from "../core";
import type { BatchRecord, RegistryStore } from "../storage/registryStore";
import type { TreeSnapshot } from "../storage/treeSnapshot";
import { batchLeaves, prepareBatch, type BatchLeaves } from "./prepareBatch";

/** What the anchorer needs from the chain (an ethers adapter in chainClient.ts; fakes in tests). */
export interface AnchorChain {
  latestBatch(): Promise<{ batch: number; statusRoot: Hex }>;
  batchRoot(batch: number): Promise<Hex>;
  /** Sends the anchor transaction and resolves once it has the configured confirmations. */
  anchor(record: BatchRecord): Promise<{ transactionHash: Hex; blockNumber: number }>;
  /** The transaction that anchored `batch`, from the BatchAnchored logs. */
  findAnchor(batch: number): Promise<{ transactionHash: Hex; blockNumber: number } | undefined>;
}

export type AnchorErrorCode = "CHAIN_DIVERGED";

/** The chain holds something this service did not prepare: stop, do not paper over it. */
export class AnchorError extends Error {
  constructor(
    readonly code: AnchorErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "AnchorError";
  }
}

/**
 * Cuts, prepares, records, sends and confirms batches, one at a time, so that a crash at any point
 * is repaired by the next step: a batch is recorded before its transaction is sent and is never
 * prepared twice, so one batch number never carries two different anchors; a recorded batch is
 * reconciled with the chain (already there: mark it; not yet: send the same bytes again).
 */
export class Anchorer {
  /** the cut, not yet anchored batch's changes, as prepared */
  private inFlight?: BatchLeaves & { batch: number; update: PreparedUpdate };

  private constructor(
    private readonly store: RegistryStore,
    private readonly hasher: Hasher,
    /** the status tree at the latest ANCHORED batch: what proofs are served against */
    readonly tree: StatusTree,
    private readonly chain: AnchorChain,
    /** the latest anchored batch (undefined: only the empty tree of batch 0) */
    public anchored: BatchRecord | undefined,
  ) {}

  /**
   * Rebuilds the tree from the store's records as of the latest anchored batch, starting from
   * `snapshot` when it is the tree of an earlier anchored batch (then only records changed since
   * are hashed), else from scratch.
   */
  static async open(
    store: RegistryStore,
    hasher: Hasher,
    depth: number,
    chain: AnchorChain,
    parallel?: ParallelHasher,
    snapshot?: TreeSnapshot,
  ) {
    const anchored = await store.latestAnchoredRecord();
    const fresh = () => Anchorer.caughtUp(new StatusTree(hasher, depth, 16, parallel), hasher, store, 0);
    const fits =
      snapshot &&
      snapshot.tree.depth === depth &&
      snapshot.batch >= 1 &&
      snapshot.batch <= (anchored?.batch ?? 0) &&
      (await store.batchRecord(snapshot.batch))?.statusRoot === snapshot.tree.root;
    let tree = fits ? Anchorer.caughtUp(snapshot.tree, hasher, store, snapshot.batch) : fresh();
    if (fits && tree.root !== anchored!.statusRoot) tree = fresh(); // the snapshot misled: start from nothing
    if (anchored && tree.root !== anchored.statusRoot) {
      throw new AnchorError(
        "CHAIN_DIVERGED",
        `the journal gives root ${tree.root}, batch ${anchored.batch} was anchored as ${anchored.statusRoot}`,
      );
    }
    return new Anchorer(store, hasher, tree, chain, anchored);
  }

  /** `tree` with the leaves of the anchored records changed after batch `from` set. */
  private static caughtUp(tree: StatusTree, hasher: Hasher, store: RegistryStore, from: number): StatusTree {
    const records = store.anchoredRecords;
    const indexes = [...records.indexes(from)];
    const leaves = new Uint8Array(indexes.length * 32);
    indexes.forEach((index, i) => leaves.set(hasher.leaf(records.raw(index)!), i * 32));
    tree.applyLeaves(indexes, leaves);
    return tree;
  }

  /**
   * Anchors at most one batch: finishes a recorded one if there is one, else cuts the open batch.
   * Returns the batch it settled, or undefined when there was nothing to anchor.
   */
  async step(): Promise<BatchRecord | undefined> {
    let record = await this.store.latestBatchRecord();
    if (!record || record.state === "anchored") {
      record = await this.store.cutBatch((batch, entries) => {
        // the applied events are not stored twice (the journal holds them); their leaves are kept
        // in memory until the batch is anchored, so they are hashed once
        const { applied, changes, update, ...prepared } = prepareBatch(this.hasher, this.tree, batch, entries);
        this.inFlight = { batch, ...changes, update };
        return prepared;
      });
      if (!record) return undefined;
    }
    return this.settle(record);
  }

  private async settle(record: BatchRecord): Promise<BatchRecord> {
    const onChain = await this.chain.latestBatch();
    let anchor: { transactionHash: Hex; blockNumber: number } | undefined;
    if (onChain.batch >= record.batch) {
      const root = await this.chain.batchRoot(record.batch);
      if (root !== record.statusRoot) {
        throw new AnchorError(
          "CHAIN_DIVERGED",
          `batch ${record.batch} is anchored with root ${root}, this service prepared ${record.statusRoot}`,
        );
      }
      anchor = await this.chain.findAnchor(record.batch);
      if (!anchor) throw new AnchorError("CHAIN_DIVERGED", `batch ${record.batch} has no BatchAnchored log`);
    } else if (onChain.batch === record.batch - 1 && onChain.statusRoot === record.previousRoot) {
      anchor = await this.chain.anchor(record);
    } else {
      throw new AnchorError(
        "CHAIN_DIVERGED",
        `batch ${record.batch} builds on ${record.previousRoot}, but the chain is at batch ${onChain.batch} with ${onChain.statusRoot}`,
      );
    }
    // after a restart the prepared leaves and nodes are gone: recompute them from the journal
    const inFlight = this.inFlight?.batch === record.batch ? this.inFlight : undefined;
    const changes = inFlight ?? batchLeaves(this.hasher, await this.store.entriesOf(record.batch));
    // the tree moves in the same synchronous step as the store's anchored records: a reader sees
    // record, proof and root of one batch, never a mix
    return this.store.markAnchored(record.batch, anchor.transactionHash, anchor.blockNumber, changes.records, (anchored) => {
      if (inFlight) inFlight.update.commit();
      else this.tree.applyLeaves(changes.indexes, changes.leaves);
      this.anchored = anchored;
      this.inFlight = undefined;
    });
  }
}
