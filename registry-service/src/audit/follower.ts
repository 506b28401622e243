import type { Provider } from "ethers";
import { Hasher, type Hex } from "../core";
import { ChainHistory, RoleTimeline, type AnchoredBatch } from "../chain/read";
import { Divergence, Replayer, type ReplayedContents } from "./replay";

/** An anchored batch without its calldata, with what its replay gave: what the follower remembers of recent batches. */
export type AnchorSummary = Omit<AnchoredBatch, "eventData"> & { contents?: ReplayedContents };

/** How many recent batches the follower remembers (a mirror's overview lists them). */
const RECENT_BATCHES = 10;

export interface FollowProgress {
  /** batches replayed so far, and how many the chain had when the step began */
  batch: number;
  latestBatch: number;
  events: number;
}

/** A correction the replay recognised (docs/spec.md 5.5), with what it found in the batches it struck. */
export interface RecognisedCorrection {
  batch: number;
  base: number;
  through: number;
  transactionHash: Hex;
  /** the findings of the struck batches: what the admin corrected */
  struck: ReturnType<Divergence["toJSON"]>[];
}

/**
 * Follows a registry on the chain block range by block range, replaying every anchored batch; the
 * auditor runs it to the head once, the mirror keeps stepping. After a divergence nothing more is
 * applied, unless the chain later holds a correction that re-bases on a batch the replay can
 * reproduce: then the replay is rebuilt up to that batch (and the replayer takes that state over),
 * the correction applied on top, and the struck batches' findings are listed with the correction.
 */
export class ChainFollower {
  divergence?: Divergence;
  /** every correction replayed, in chain order */
  corrections: RecognisedCorrection[] = [];
  private running: Promise<unknown> = Promise.resolve();
  /** the last block read to */
  head = -1;
  /** the latest batches replayed cleanly, newest first */
  readonly recent: AnchorSummary[] = [];
  /** first block not read yet */
  private nextBlock: number;
  /** blocks below the head not read yet: a reorganisation could still drop them */
  private unsettledBlocks = 0;
  /** the last batch read (replayed, or passed over after a divergence) */
  private readThrough = 0;

  private constructor(
    readonly history: ChainHistory,
    private readonly roles: RoleTimeline,
    readonly replayer: Replayer,
    readonly chainId: bigint,
    private readonly fromBlock: number,
    private readonly newReplayer: () => Replayer,
  ) {
    this.nextBlock = fromBlock;
  }

  static async open(
    provider: Provider,
    registry: string,
    /** confirmations: read only blocks this deep (1: to the head), so that nothing a reorganisation could drop is replayed */
    options: { fromBlock?: number; blockSpan?: number; keepGoing?: boolean; confirmations?: number } = {},
  ): Promise<ChainFollower> {
    const history = new ChainHistory(provider, registry, options.blockSpan);
    const { contract } = history;
    const [network, depth, hasher] = await Promise.all([provider.getNetwork(), contract.treeDepth(), Hasher.create()]);
    const roles = new RoleTimeline(history);
    const domain = { chainId: network.chainId, verifyingContract: registry };
    const newReplayer = () => Replayer.create(hasher, Number(depth), domain, (signer, block) => roles.rolesAfter(signer, block), options);
    const follower = new ChainFollower(history, roles, newReplayer(), network.chainId, options.fromBlock ?? 0, newReplayer);
    follower.unsettledBlocks = Math.max(0, (options.confirmations ?? 1) - 1);
    return follower;
  }

  get root(): Hex {
    return this.replayer.tree.root;
  }

  /**
   * Reads and replays everything anchored up to the chain's head. Returns the divergence that
   * stands, if any (nothing more is applied while it does, but corrections are looked for).
   */
  catchUp(onProgress?: (progress: FollowProgress) => void): Promise<Divergence | undefined> {
    // one catch-up at a time: two overlapping ones would replay the same batch twice
    const run = this.running.then(() => this.readToHead(onProgress));
    this.running = run.catch(() => undefined);
    return run;
  }

  private async readToHead(onProgress?: (progress: FollowProgress) => void): Promise<Divergence | undefined> {
    const head = Math.max(0, (await this.history.head()) - this.unsettledBlocks);
    // the chain's batch count only feeds progress reports: not read on a mirror's quiet polls
    const latestBatch = onProgress ? Number((await this.history.contract.latestBatch({ blockTag: head })).batch) : 0;
    await this.roles.extend(head);
    await this.read(this.nextBlock, head, Infinity, (progress) => onProgress?.({ ...progress, latestBatch }));
    this.head = head;
    return this.divergence;
  }

  /** Replays the anchors between two blocks, up to batch `until`; `nextBlock` follows the windows read whole. */
  private async read(fromBlock: number, toBlock: number, until: number, onProgress?: (progress: FollowProgress) => void) {
    const span = this.history.blockSpan;
    for (let from = fromBlock; from <= toBlock; from += span) {
      const to = Math.min(toBlock, from + span - 1);
      for await (const anchor of this.history.anchors(from, to)) {
        if (anchor.batch > until) return;
        // a window re-read after a catch-up was cut short (chain unreachable) repeats read batches
        if (anchor.batch <= this.readThrough) continue;
        await this.follow(anchor);
        onProgress?.({ batch: this.replayer.batch, latestBatch: 0, events: this.replayer.events });
      }
      this.nextBlock = to + 1;
    }
  }

  private async follow(anchor: AnchoredBatch): Promise<void> {
    this.readThrough = anchor.batch;
    if (anchor.correction) return this.correct(anchor, anchor.correction);
    if (this.divergence) return; // nothing is applied on top of a divergence
    this.applyOrStop(this.replayer, anchor);
  }

  private applyOrStop(replayer: Replayer, anchor: AnchoredBatch): void {
    try {
      replayer.apply(anchor);
    } catch (error) {
      if (!(error instanceof Divergence)) throw error;
      this.divergence = error;
      return;
    }
    this.remember(anchor);
  }

  /** A correction: the replay rebuilt up to its base, the correction applied on top, the struck batches' findings set aside. */
  private async correct(anchor: AnchoredBatch, { base, through }: { base: number; through: number }): Promise<void> {
    const struckBatch = (finding: Divergence) => finding.batch > base && finding.batch <= through;
    const before = [...this.replayer.findings, ...(this.divergence ? [this.divergence] : [])];
    const rebuilt = new ChainFollower(this.history, this.roles, this.newReplayer(), this.chainId, this.fromBlock, this.newReplayer);
    await rebuilt.read(this.fromBlock, anchor.blockNumber, base);
    // a divergence at or before the base stands: the correction cannot be checked on top of it
    if (rebuilt.divergence) return void (this.divergence = rebuilt.divergence);
    this.replayer.rebaseOn(rebuilt.replayer);
    this.corrections = rebuilt.corrections;
    this.divergence = undefined;
    this.applyOrStop(this.replayer, anchor);
    const struck = before.filter(struckBatch).map((finding) => finding.toJSON());
    this.corrections.push({ batch: anchor.batch, base, through, transactionHash: anchor.transactionHash, struck });
  }

  private remember({ eventData: _eventData, ...summary }: AnchoredBatch): void {
    this.recent.unshift({ ...summary, contents: this.replayer.contents });
    if (this.recent.length > RECENT_BATCHES) this.recent.pop();
  }

  /** A recent batch's summary and contents (a mirror serves them), if the follower still remembers it. */
  recentBatch(batch: number): AnchorSummary | undefined {
    return this.recent.find((summary) => summary.batch === batch);
  }

  /** The auditor's whole run: replay to the head, then hold the last batch against the contract's. */
  async replayToHead(onProgress?: (progress: FollowProgress) => void): Promise<Divergence | undefined> {
    return (await this.catchUp(onProgress)) ?? (await this.checkHead());
  }

  /** At the block read to, the contract's latest batch must be the one replayed last (no log missed). */
  async checkHead(): Promise<Divergence | undefined> {
    if (this.divergence) return this.divergence;
    const latest = await this.history.contract.latestBatch({ blockTag: this.head });
    const batch = Number(latest.batch);
    if (batch === this.replayer.batch && latest.statusRoot === this.root) return undefined;
    this.divergence ??= new Divergence(
      "BATCH_SEQUENCE",
      batch,
      (this.replayer.anchor?.transactionHash ?? "0x") as Hex,
      `the contract's latest batch is ${batch} with root ${latest.statusRoot}; the logs replayed to batch ${this.replayer.batch}`,
      { expected: latest.statusRoot, computed: this.root },
    );
    return this.divergence;
  }
}
