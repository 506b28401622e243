import type { Provider } from "ethers";
import { Hasher, type Hex } from "../core";
import { ChainHistory, RoleTimeline, type AnchoredBatch } from "../chain/read";
import { Divergence, Replayer } from "./replay";

/** An anchored batch without its calldata: what the follower remembers of recent batches. */
export type AnchorSummary = Omit<AnchoredBatch, "eventData">;

/** How many recent batches the follower remembers (a mirror's overview lists them). */
const RECENT_BATCHES = 10;

export interface FollowProgress {
  /** batches replayed so far, and how many the chain had when the step began */
  batch: number;
  latestBatch: number;
  events: number;
}

/**
 * Follows a registry on the chain block range by block range, replaying every anchored batch; the
 * auditor runs it to the head once, the mirror keeps stepping. Stops for good at a divergence.
 */
export class ChainFollower {
  divergence?: Divergence;
  private running: Promise<unknown> = Promise.resolve();
  /** the last block read to */
  head = -1;
  /** the latest batches replayed cleanly, newest first */
  readonly recent: AnchorSummary[] = [];
  /** first block not read yet */
  private nextBlock: number;

  private constructor(
    readonly history: ChainHistory,
    private readonly roles: RoleTimeline,
    readonly replayer: Replayer,
    readonly chainId: bigint,
    fromBlock: number,
  ) {
    this.nextBlock = fromBlock;
  }

  static async open(
    provider: Provider,
    registry: string,
    options: { fromBlock?: number; blockSpan?: number; keepGoing?: boolean } = {},
  ): Promise<ChainFollower> {
    const history = new ChainHistory(provider, registry, options.blockSpan);
    const { contract } = history;
    const [network, depth, hasher] = await Promise.all([provider.getNetwork(), contract.treeDepth(), Hasher.create()]);
    const roles = new RoleTimeline(history);
    const domain = { chainId: network.chainId, verifyingContract: registry };
    const replayer = Replayer.create(hasher, Number(depth), domain, (signer, block) => roles.rolesAfter(signer, block), options);
    return new ChainFollower(history, roles, replayer, network.chainId, options.fromBlock ?? 0);
  }

  get root(): Hex {
    return this.replayer.tree.root;
  }

  /**
   * Reads and replays everything anchored up to the chain's head. Returns the divergence, if one
   * is found (then, and ever after, nothing more is applied).
   */
  catchUp(onProgress?: (progress: FollowProgress) => void): Promise<Divergence | undefined> {
    // one catch-up at a time: two overlapping ones would replay the same batch twice
    const run = this.running.then(() => this.readToHead(onProgress));
    this.running = run.catch(() => undefined);
    return run;
  }

  private async readToHead(onProgress?: (progress: FollowProgress) => void): Promise<Divergence | undefined> {
    if (this.divergence) return this.divergence;
    const head = await this.history.head();
    // the chain's batch count only feeds progress reports: not read on a mirror's quiet polls
    const latestBatch = onProgress ? Number((await this.history.contract.latestBatch({ blockTag: head })).batch) : 0;
    await this.roles.extend(head);
    const span = this.history.blockSpan;
    for (let from = this.nextBlock; from <= head; from += span) {
      const to = Math.min(head, from + span - 1);
      for await (const anchor of this.history.anchors(from, to)) {
        // a window re-read after a catch-up was cut short (chain unreachable) repeats applied batches
        if (anchor.batch <= this.replayer.batch) continue;
        try {
          this.replayer.apply(anchor);
        } catch (error) {
          if (!(error instanceof Divergence)) throw error;
          this.divergence = error;
          return error;
        }
        this.remember(anchor);
        onProgress?.({ batch: this.replayer.batch, latestBatch, events: this.replayer.events });
      }
      this.nextBlock = to + 1;
    }
    this.head = head;
    return undefined;
  }

  private remember({ eventData: _eventData, ...summary }: AnchoredBatch): void {
    this.recent.unshift(summary);
    if (this.recent.length > RECENT_BATCHES) this.recent.pop();
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
