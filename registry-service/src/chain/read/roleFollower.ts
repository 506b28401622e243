import type { Hex, RoleCheck } from "../../core";
import { ChainError } from "./errors";
import type { ChainHistory } from "./history";
import { RoleTimeline } from "./roleTimeline";

/**
 * The submitter roles as of the latest block the service has read, kept by following the
 * RoleGranted/RoleRevoked logs block by block (docs/spec.md 4.2). Intake asks it without a chain
 * call: a made-up signer costs a map look-up, and a revocation takes effect for every submission
 * accepted after its block is read. Each answer names that block: the submission's intake block.
 */
export class RoleFollower {
  private readonly timeline: RoleTimeline;
  private block = -1;
  private readAt = 0;

  constructor(
    private readonly history: ChainHistory,
    /** the registry's deployment block: roles are read from there */
    fromBlock: number,
    /** how old the view may grow while the chain cannot be read before intake refuses (CHAIN_UNREACHABLE) */
    private readonly maxAgeMs = 30_000,
    private readonly clock: () => number = Date.now,
  ) {
    this.timeline = new RoleTimeline(history, fromBlock);
  }

  /** Reads the role changes up to the chain's head; returns that block. Throws when the node cannot answer. */
  async advance(): Promise<number> {
    const head = await this.history.head();
    await this.timeline.extend(head);
    this.block = Math.max(this.block, head);
    this.readAt = this.clock();
    return this.block;
  }

  /** The block the view was last read at (-1 before the first read). */
  get followedBlock(): number {
    return this.block;
  }

  /**
   * The roles `account` holds at the followed block, and that block; CHAIN_UNREACHABLE once the view
   * is too old, unless `lastKnown` (a lock must not wait for the chain: it is stamped with the
   * block its roles were read at, and the audit holds it to that block).
   */
  rolesNow(account: Hex, lastKnown = false): RoleCheck {
    const age = this.clock() - this.readAt;
    if (this.block < 0 || (age > this.maxAgeMs && !lastKnown)) {
      const since = this.block < 0 ? "has not been read yet" : `was last read ${Math.round(age / 1000)} s ago, at block ${this.block}`;
      throw new ChainError("CHAIN_UNREACHABLE", `the chain cannot be read: the registry's roles ${since}; retry shortly`);
    }
    return { roles: this.timeline.rolesAfter(account, this.block), block: this.block };
  }
}
