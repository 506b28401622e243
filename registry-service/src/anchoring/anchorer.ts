import type { Hasher, PreparedUpdate } from "../core";
import type { AnchorChain, AnchorReceipt } from "../chain/write";
import type { Intake } from "../intake";
import type { BatchRecord, Journal } from "../journal";
import type { AnchoredView } from "./anchoredView";
import { AnchorError } from "./errors";
import { batchLeaves, prepareBatch, type BatchLeaves } from "./prepareBatch";

/**
 * Cuts, prepares, records, sends and confirms batches, one at a time, so that a crash at any point
 * is repaired by the next step: a batch is recorded before its transaction is sent and is never
 * prepared twice, so one batch number never carries two different anchors; a recorded batch is
 * reconciled with the chain (already there: mark it; not yet: send the same bytes again).
 */
export class Anchorer {
  /** the cut, not yet anchored batch's changes, as prepared */
  private inFlight?: BatchLeaves & { batch: number; update: PreparedUpdate };
  /** the step under way: steps never overlap, or two could cut and send the same batch number */
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly journal: Journal,
    private readonly intake: Intake,
    private readonly view: AnchoredView,
    private readonly hasher: Hasher,
    private readonly chain: AnchorChain,
  ) {}

  /**
   * Anchors at most one batch: finishes a recorded one if there is one, else cuts the oldest
   * batch without a record. Returns the batch it settled, or undefined when there was nothing to anchor.
   */
  step(): Promise<BatchRecord | undefined> {
    const run = this.running
      .then(() => this.stepAlone())
      .catch((error: unknown) => {
        // nothing accepted from now on could be anchored: intake stops at once, not at its backlog bound
        if (error instanceof AnchorError) this.intake.halt(error.message);
        throw error;
      });
    this.running = run.catch(() => undefined);
    return run;
  }

  private async stepAlone(): Promise<BatchRecord | undefined> {
    const latest = await this.journal.latestBatch();
    if (latest?.state === "prepared") return this.settle(latest);
    const cut = await this.cut((latest?.batch ?? 0) + 1, latest);
    return cut && this.settle(cut);
  }

  /**
   * Closes `batch`, prepares its anchor on top of the anchored tree and records it (one synced
   * write). After a struck record (a re-base) the batch is the correction: it builds on the struck root.
   */
  private async cut(batch: number, after: BatchRecord | undefined): Promise<BatchRecord | undefined> {
    const entries = await this.intake.closeBatch(batch);
    if (entries.length === 0) return undefined;
    // the applied events are not stored twice (the journal holds them); their leaves and tree
    // update are kept in memory until the batch is anchored, so they are hashed once
    const { applied: _applied, changes, update, ...prepared } = prepareBatch(this.hasher, this.view.tree, batch, entries);
    const correction = after?.state === "struck" ? { previousRoot: after.statusRoot, correction: after.correction } : {};
    const record: BatchRecord = { ...prepared, ...correction, state: "prepared", lastSeq: entries[entries.length - 1].seq };
    await this.journal.putBatch(record);
    this.inFlight = { batch, ...changes, update };
    return record;
  }

  private async settle(record: BatchRecord): Promise<BatchRecord> {
    const anchor = await this.reconcile(record);
    // after a restart the prepared leaves and nodes are gone: recompute them from the journal
    const inFlight = this.inFlight?.batch === record.batch ? this.inFlight : undefined;
    const changes = inFlight ?? batchLeaves(this.hasher, await this.intake.entriesOf(record.batch));
    const anchored: BatchRecord = {
      ...record,
      state: "anchored",
      transactionHash: anchor.transactionHash,
      blockNumber: anchor.blockNumber,
    };
    await this.journal.putBatch(anchored);
    // one synchronous step: the anchored view moves, and intake's backlog with it
    this.view.advance(anchored, changes, inFlight?.update);
    this.intake.anchoredThrough(anchored.batch);
    this.inFlight = undefined;
    return anchored;
  }

  /**
   * Confirms on chain that this service's latest anchored root is still the current one (a
   * heartbeat, while nothing is to be anchored): a current root ages only when anchoring stops.
   * The chain must hold exactly that root (else CHAIN_DIVERGED: an idle service notices a rogue
   * anchor too). Runs between steps, never beside one.
   */
  heartbeat(): Promise<AnchorReceipt> {
    const run = this.running.then(async () => {
      const own = { batch: this.view.anchor?.batch ?? 0, statusRoot: this.view.tree.root };
      const onChain = await this.chain.latestBatch();
      if (onChain.batch !== own.batch || onChain.statusRoot !== own.statusRoot) {
        const message = `the chain is at batch ${onChain.batch} with ${onChain.statusRoot}; this service anchored batch ${own.batch} with ${own.statusRoot}`;
        this.intake.halt(message);
        throw new AnchorError("CHAIN_DIVERGED", message);
      }
      return this.chain.heartbeat(own.batch, own.statusRoot);
    });
    this.running = run.catch(() => undefined);
    return run;
  }

  /** Where the chain has (or now gets) `record`'s anchor; CHAIN_DIVERGED when it holds another. */
  private async reconcile(record: BatchRecord): Promise<AnchorReceipt> {
    const onChain = await this.chain.latestBatch();
    if (onChain.batch >= record.batch) {
      const root = await this.chain.batchRoot(record.batch);
      if (root !== record.statusRoot) {
        throw new AnchorError(
          "CHAIN_DIVERGED",
          `batch ${record.batch} is anchored with root ${root}, this service prepared ${record.statusRoot}`,
        );
      }
      const anchor = await this.chain.findAnchor(record.batch);
      if (!anchor) throw new AnchorError("CHAIN_DIVERGED", `batch ${record.batch} has no BatchAnchored log`);
      return anchor;
    }
    if (onChain.batch === record.batch - 1 && onChain.statusRoot === record.previousRoot) return this.chain.anchor(record);
    throw new AnchorError(
      "CHAIN_DIVERGED",
      `batch ${record.batch} builds on ${record.previousRoot}, but the chain is at batch ${onChain.batch} with ${onChain.statusRoot}`,
    );
  }
}
