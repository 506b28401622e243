import os from "node:os";
import { performance } from "node:perf_hooks";
import type { AnchorPayload, Hex } from "../core";
import type { AnchorChain, AnchorReceipt } from "../chain/write";
import { PostgresLease } from "../journal";
import { journalUrl, type Config } from "./config";
import { StartupError } from "./startup";

export interface LeadershipOptions {
  /** how long a lease lasts unrenewed: a standby takes over this long after the leader went silent */
  ttlMs: number;
  /** how often a standby asks for the lease and the leader renews it */
  pollMs: number;
  /** this instance's name and URL, written into the lease (the standbys name the leader's URL; announce() sets it once known) */
  holder: string;
  url?: string;
}

/**
 * This instance's hold on the write path's lease (journal/postgresLease.ts). The leader renews it
 * every `pollMs`; it counts itself the leader only until `ttlMs` after the start of its last
 * successful renewal, on its own monotonic clock, which runs on while the process is stopped
 * (SIGSTOP): a paused leader that wakes up knows at once that its lease may have passed, before any
 * renewal is answered. The journal's writes are fenced by the epoch in the database besides.
 */
export class Leadership {
  private validUntil: number;
  private timer?: NodeJS.Timeout;
  private lost?: string;
  private onLost?: (reason: string) => void;

  private constructor(
    private readonly lease: PostgresLease,
    readonly epoch: number,
    private readonly options: LeadershipOptions,
    startedAt: number,
  ) {
    this.validUntil = startedAt + options.ttlMs;
    // renewed from the moment it is taken: opening the journal and reconciling with the chain take longer than a lease
    this.timer = setTimeout(() => void this.renew(), options.pollMs);
  }

  /** The lease if it is free now (expired or released), else undefined. */
  static async tryAcquire(lease: PostgresLease, options: LeadershipOptions): Promise<Leadership | undefined> {
    const startedAt = performance.now();
    const epoch = await lease.tryAcquire(options.holder, options.url ?? "", options.ttlMs).catch(() => undefined);
    return epoch === undefined ? undefined : new Leadership(lease, epoch, { ...options }, startedAt);
  }

  /** Waits until this instance holds the lease, asking every `pollMs`. */
  static async acquire(lease: PostgresLease, options: LeadershipOptions): Promise<Leadership> {
    for (;;) {
      const leadership = await Leadership.tryAcquire(lease, options);
      if (leadership) return leadership;
      await new Promise((resolve) => setTimeout(resolve, options.pollMs));
    }
  }

  /** `onLost` is called once, with the reason, when this instance is no longer the leader (at once if it no longer is). */
  keep(onLost: (reason: string) => void): void {
    this.onLost = onLost;
    if (this.lost !== undefined) onLost(this.lost);
  }

  /** One renewal every `pollMs` until the lease is lost or released. */
  private async renew(): Promise<void> {
    const startedAt = performance.now();
    const renewed = await this.lease.renew(this.epoch, this.options.ttlMs, this.options.url).catch(() => undefined);
    if (this.lost !== undefined) return; // released meanwhile
    // renewed: the epoch is still this one's, so nobody took over meanwhile, however long it took
    if (renewed === true) this.validUntil = startedAt + this.options.ttlMs;
    else if (renewed === false) this.lose(`another instance took the lease (this one held epoch ${this.epoch})`);
    else if (!this.isLeader()) this.lose(`the lease of epoch ${this.epoch} could not be renewed within ${this.options.ttlMs} ms`);
    if (this.lost === undefined) this.timer = setTimeout(() => void this.renew(), this.options.pollMs);
  }

  /** The URL the leader serves on, written into the lease at the next renewal. */
  announce(url: string): void {
    this.options.url = url;
  }

  /** True while the lease is this instance's by its own clock (no question asked). */
  isLeader(): boolean {
    return this.lost === undefined && performance.now() < this.validUntil;
  }

  /** Throws unless this instance is the leader by its own clock and, asked now, by the database. */
  async assertLeader(): Promise<void> {
    if (this.isLeader() && (await this.lease.holds(this.epoch))) return;
    this.lose(`the lease of epoch ${this.epoch} has passed`);
    throw new Error(`not the leader: ${this.lost}`);
  }

  private lose(reason: string): void {
    if (this.lost !== undefined) return;
    this.lost = reason;
    clearTimeout(this.timer);
    this.onLost?.(reason);
  }

  /** Stops renewing and gives the lease up (unless already lost), so that a standby takes over at once (a graceful stop). */
  async release(): Promise<void> {
    clearTimeout(this.timer);
    const held = this.lost === undefined;
    this.lost ??= "released";
    if (held) await this.lease.release(this.epoch).catch(() => undefined);
    await this.lease.close();
  }
}

/**
 * The anchor client of a leader: every transaction (an anchor, a heartbeat) is sent only after the
 * lease is confirmed, so a former leader that wakes up sends none. The reads pass through.
 * (The contract's sequential batch numbers stay the last guard: a send that raced a take-over is refused on chain.)
 */
export function leaderOnlyChain(chain: AnchorChain, leadership: Leadership, beforeAnchor: () => void = () => undefined): AnchorChain {
  return {
    latestBatch: () => chain.latestBatch(),
    batchRoot: (batch: number) => chain.batchRoot(batch),
    findAnchor: (batch: number) => chain.findAnchor(batch),
    approvedCorrection: () => chain.approvedCorrection(),
    async anchor(payload: AnchorPayload): Promise<AnchorReceipt> {
      beforeAnchor();
      await leadership.assertLeader();
      return chain.anchor(payload);
    },
    async heartbeat(batch: number, statusRoot: Hex): Promise<AnchorReceipt> {
      await leadership.assertLeader();
      return chain.heartbeat(batch, statusRoot);
    },
    // the pipelined send (several anchors in flight), gated the same way
    ...(chain.send && {
      send: async (payload: AnchorPayload) => {
        beforeAnchor();
        await leadership.assertLeader();
        return chain.send!(payload);
      },
    }),
  };
}

/** With JOURNAL_URL: the lease, taken (waiting while another instance holds it) unless given; without: none. */
export async function leadershipOf(config: Config, options: { leadership?: Leadership }): Promise<Leadership | undefined> {
  if (!config.JOURNAL_URL || options.leadership) return options.leadership;
  return Leadership.acquire(await openLease(config), leaseOptions(config));
}

/** The lease's timing from LEASE_MS: renewed (and asked for by a standby) every third of it. */
export function leaseOptions(config: Config) {
  return { ttlMs: config.LEASE_MS, pollMs: Math.ceil(config.LEASE_MS / 3), holder: `${os.hostname()}:${process.pid}` };
}

/** The lease of JOURNAL_URL, or a StartupError naming the setting. */
export function openLease(config: Config): Promise<PostgresLease> {
  return PostgresLease.open(journalUrl(config)).catch((error: unknown) => {
    throw new StartupError("INVALID_SETTING", `JOURNAL_URL: ${(error as Error).message}`);
  });
}
