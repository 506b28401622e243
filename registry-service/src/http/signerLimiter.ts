import { LRUCache } from "lru-cache";
import type { Hex } from "../core";
import { ApiError } from "../readApi";

/**
 * Submissions per signer per minute (a fixed one-minute window per signer): a leaked or runaway
 * key cannot flood intake from many addresses' worth of connections. Bounded in memory: windows
 * of signers not seen for a minute are dropped.
 */
export class SignerLimiter {
  private readonly windows: LRUCache<string, { started: number; count: number }>;

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    this.windows = new LRUCache({ max: 100_000, ttl: 60_000 });
  }

  /** Counts one submission of `signer`; 429 RATE_LIMITED once its minute is used up. */
  take(signer: Hex): void {
    const now = this.now();
    let window = this.windows.get(signer);
    if (!window || now - window.started >= 60_000) this.windows.set(signer, (window = { started: now, count: 0 }));
    if (++window.count > this.perMinute) {
      const retryAfter = Math.ceil((window.started + 60_000 - now) / 1000);
      throw new ApiError(
        "RATE_LIMITED",
        429,
        `${signer} sent more than ${this.perMinute} submissions this minute; retry in ${retryAfter} s`,
        retryAfter,
      );
    }
  }
}
