import type { Hasher, PreparedUpdate } from "../core";
import type { AnchorChain, AnchorReceipt } from "../chain/write";
import type { Intake } from "../intake";
import { unsettledBatches, type BatchRecord, type Journal } from "../journal";
import type { AnchoredView } from "./anchoredView";
import { AnchorError } from "./errors";
import { batchLeaves, prepareBatch, type BatchLeaves } from "./prepareBatch";

/** A batch cut, recorded and sent by this process, not yet settled; its changes kept so that they are hashed once. */
interface Flight {
  record: BatchRecord;
  changes: BatchLeaves;
  update: PreparedUpdate;
  /** its anchor's confirmation (rejects if it, or an anchor before it, fails) */
  confirmed: Promise<AnchorReceipt>;
}

export interface AnchorerOptions {
  /** most anchors sent and not yet settled (1: each is confirmed before the next batch is cut) */
  maxInFlight: number;
}

/**
 * Cuts, prepares, records, sends and confirms batches, so that a crash at any point is repaired by
 * the next step: a batch is recorded before its transaction is sent and is never prepared twice, so
 * one batch number never carries two different anchors; a recorded batch is reconciled with the
 * chain (already there: mark it; not yet: send the same bytes again).
 *
 * Up to `maxInFlight` batches are in flight: the next full batch is cut, prepared on top of the
 * previous one's uncommitted tree update, recorded and sent while the previous ones wait for their
 * blocks (a batch still filling is cut only when nothing is in flight, so that a trickle of
 * submissions makes few, larger batches). They are
 * sent in batch order, one after another (consecutive nonces), and settled in that order. After any
 * failure the batches in flight are forgotten (only their prepared changes are kept): the next step
 * reconciles the recorded ones with the chain one at a time, oldest first, as after a restart, before
 * anything new is cut.
 */
export class Anchorer {
  /** batches in flight, oldest first */
  private flight: Flight[] = [];
  /** prepared changes of recorded, unsettled batches, by batch: kept across a failure, so that they are not hashed again */
  private prepared = new Map<number, { changes: BatchLeaves; update: PreparedUpdate }>();
  /** the send of the newest batch in flight: the next is sent after it */
  private sending: Promise<unknown> = Promise.resolve();
  /** counts failures: a send queued before one is not made after it */
  private failures = 0;
  /** the step under way: steps never overlap, or two could cut and send the same batch number */
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly journal: Journal,
    private readonly intake: Intake,
    private readonly view: AnchoredView,
    private readonly hasher: Hasher,
    private readonly chain: AnchorChain,
    private readonly options: AnchorerOptions = { maxInFlight: 1 },
  ) {}

  /**
   * Settles at most one batch: a recorded, unsettled one if there is one (after a restart or a
   * failure), else the oldest in flight, after cutting and sending new batches up to `maxInFlight`.
   * Returns the batch it settled, or undefined when there was nothing to anchor.
   */
  step(): Promise<BatchRecord | undefined> {
    const run = this.running
      .then(() => this.stepAlone())
      .catch((error: unknown) => {
        // what was sent is reconciled with the chain from the journal, in order; queued sends are not made
        this.flight = [];
        this.failures++;
        // nothing accepted from now on could be anchored: intake stops at once, not at its backlog bound
        if (error instanceof AnchorError) this.intake.halt(error.message);
        throw error;
      });
    this.running = run.catch(() => undefined);
    return run;
  }

  /** Batches cut and not yet settled (in flight, or recorded and waiting to be reconciled). */
  get inFlight(): number {
    return this.flight.length;
  }

  private async stepAlone(): Promise<BatchRecord | undefined> {
    if (this.flight.length === 0) {
      await this.sending; // a send still under way from before a failure: its nonce is taken first
      const [oldest] = await unsettledBatches(this.journal);
      if (oldest) return this.settleRecorded(oldest);
    }
    await this.fill();
    const next = this.flight[0];
    if (!next) return undefined;
    const anchored = await this.settle(next.record, await next.confirmed, next);
    this.flight.shift();
    return anchored;
  }

  /** Cuts, records and sends batches until `maxInFlight` are in flight or nothing is left to cut. */
  private async fill(): Promise<void> {
    while (this.flight.length < Math.max(1, this.options.maxInFlight)) {
      const first = this.flight.length === 0;
      const cut = await this.cutNext();
      if (!cut) return;
      this.flight.push({ ...cut, confirmed: this.queueSend(cut.record, first) });
      if (!this.chain.send) return;
    }
  }

  /** Cuts the batch after the newest one (in flight or recorded); behind an anchor in flight only a full one (a bulk load): one still filling waits and grows. */
  private async cutNext() {
    const previous = this.flight[this.flight.length - 1];
    const after = previous?.record ?? (await this.journal.latestBatch());
    const batch = (after?.batch ?? 0) + 1;
    if (previous && batch >= this.intake.openBatch) return undefined;
    return this.cut(batch, after, previous?.update);
  }

  /**
   * Sends `record` after the send before it: the first in flight is checked against the chain, the
   * next ones build on it (the registry refuses them otherwise). Resolves once it is confirmed.
   */
  private queueSend(record: BatchRecord, first: boolean): Promise<AnchorReceipt> {
    const failures = this.failures;
    const send = () => {
      if (failures !== this.failures) throw new Error(`batch ${record.batch} was not sent: an anchor before it failed`);
      return first ? this.first(record) : (this.chain.send?.(record) ?? this.sent(this.chain.anchor(record)));
    };
    const sent = this.sending.then(send);
    this.sending = sent.catch(() => undefined);
    const confirmed = sent.then((s) => s.confirmed);
    confirmed.catch(() => undefined); // awaited in turn, or dropped after an earlier failure
    return confirmed;
  }

  /**
   * Closes `batch`, prepares its anchor on top of the anchored tree (or of `on`, the update of the
   * batch before it, in flight) and records it (one synced write). After a struck record (a re-base)
   * the batch is the correction: it builds on the struck root.
   */
  private async cut(batch: number, after: BatchRecord | undefined, on: PreparedUpdate | undefined) {
    const entries = await this.intake.cutBatch(batch);
    if (entries.length === 0) return undefined;
    // the applied events are not stored twice (the journal holds them); their leaves and tree
    // update are kept in memory until the batch is anchored, so they are hashed once
    const { changes, update, ...prepared } = prepareBatch(this.hasher, this.view.tree, batch, entries, on);
    const correction = after?.state === "struck" ? { previousRoot: after.statusRoot, correction: after.correction } : {};
    const record: BatchRecord = { ...prepared, ...correction, state: "prepared", lastSeq: entries[entries.length - 1].seq };
    await this.journal.putBatch(record);
    this.prepared.set(batch, { changes, update });
    return { record, changes, update };
  }

  /** The first batch in flight: sent only if the chain stands where it builds on (else reconciled: CHAIN_DIVERGED). */
  private async first(record: BatchRecord): Promise<{ confirmed: Promise<AnchorReceipt> }> {
    const onChain = await this.chain.latestBatch();
    if (onChain.batch === record.batch - 1 && onChain.statusRoot === record.previousRoot)
      return this.chain.send?.(record) ?? this.sent(this.chain.anchor(record));
    return this.sent(this.reconcile(record));
  }

  private async sent(receipt: Promise<AnchorReceipt>): Promise<{ confirmed: Promise<AnchorReceipt> }> {
    return { confirmed: Promise.resolve(await receipt) };
  }

  /** A recorded batch this process has not (or no longer) in flight: reconciled with the chain, then settled. */
  private async settleRecorded(record: BatchRecord): Promise<BatchRecord> {
    return this.settle(record, await this.reconcile(record));
  }

  /** Records `record` anchored where `anchor` says and moves the anchored view to it. */
  private async settle(record: BatchRecord, anchor: AnchorReceipt, flight?: Flight): Promise<BatchRecord> {
    // after a restart the prepared leaves and nodes are gone: recompute them from the journal
    const kept = flight ?? this.prepared.get(record.batch);
    const changes = kept?.changes ?? batchLeaves(this.hasher, await this.intake.storedEntriesOf(record.batch));
    const anchored: BatchRecord = {
      ...record,
      state: "anchored",
      transactionHash: anchor.transactionHash,
      blockNumber: anchor.blockNumber,
    };
    await this.journal.putBatch(anchored);
    // one synchronous step: the anchored view moves, and intake's backlog with it
    this.view.advance(anchored, changes, kept?.update);
    this.intake.anchoredThrough(anchored.batch);
    this.prepared.delete(record.batch);
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
