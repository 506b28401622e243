import type { Hex } from "../core";
import type { BatchLine, ConsoleConfig, Overview } from "../wire";

/** A batch as a server knows it, before the chain's gas and time are added. */
export type BatchFacts = Omit<BatchLine, "gasUsed" | "anchoredAt">;

/** What a server contributes to its overview; the rest (ages, rates, the chain's facts) is worked out here. */
export interface OverviewParts {
  latest: BatchFacts | undefined;
  /** newest first */
  recent: BatchFacts[];
  /** what waits: the service's backlog, a mirror's batches not replayed yet (null: unknown) */
  waiting: number | null;
  /** events so far (accepted, or replayed): the rate is measured on it */
  totalEvents: number;
}

export interface OverviewSource {
  server: ConsoleConfig["server"];
  chainId: number;
  registry: Hex;
  parts(): Promise<OverviewParts>;
  /** the chain's gas and block time of an anchoring transaction (null: not known) */
  facts(transactionHash: string, blockNumber: number): Promise<{ gasUsed: string; anchoredAt: number } | null>;
  /** wall clock, ms (tests replace it) */
  now?: () => number;
}

/** The window the event rate is measured over, ms. */
const RATE_WINDOW_MS = 60_000;

/**
 * Events per second over the last minute, from samples of a growing total (taken as overviews
 * are asked for: a console polls every few seconds).
 */
export class RateMeter {
  private readonly samples: { at: number; total: number }[] = [];

  sample(total: number, at: number): number {
    this.samples.push({ at, total });
    while (this.samples.length > 2 && at - this.samples[1].at >= RATE_WINDOW_MS) this.samples.shift();
    const first = this.samples[0];
    const seconds = (at - first.at) / 1000;
    return seconds > 0 ? Math.max(0, total - first.total) / seconds : 0;
  }
}

/** The overview of a server, built afresh at each call. */
export function overviewOf(source: OverviewSource): () => Promise<Overview> {
  const rate = new RateMeter();
  const clock = source.now ?? Date.now;
  const line = async (batch: BatchFacts): Promise<BatchLine> => {
    const fact = batch.transactionHash && batch.blockNumber !== null ? await source.facts(batch.transactionHash, batch.blockNumber) : null;
    return { ...batch, gasUsed: fact?.gasUsed ?? null, anchoredAt: fact?.anchoredAt ?? null };
  };
  return async () => {
    const parts = await source.parts();
    const [latest, recent] = await Promise.all([parts.latest && line(parts.latest), Promise.all(parts.recent.map(line))]);
    const nowMs = clock();
    const now = Math.floor(nowMs / 1000);
    const since = latest?.anchoredAt ?? now;
    return {
      server: source.server,
      chainId: source.chainId,
      registry: source.registry,
      now,
      latest: latest ?? null,
      waiting: parts.waiting,
      anchoringLagSeconds: parts.waiting ? Math.max(0, now - since) : 0,
      eventsPerSecond: rate.sample(parts.totalEvents, nowMs),
      recent,
    };
  };
}
