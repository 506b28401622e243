import type { Provider } from "ethers";
import { ChainFollower, type FollowProgress, type RecognisedCorrection } from "./follower";
import type { Divergence, DivergenceCode } from "./replay";

export interface AuditReport {
  ok: boolean;
  registry: string;
  chainId: string;
  /** the last block read */
  headBlock: number;
  /** batches and events replayed (up to the head, or to where the replay stopped) */
  batches: number;
  events: number;
  /** the replayed status root after the last clean batch */
  statusRoot: string;
  /** every finding, in chain order; the last one stopped the replay if the state could not follow the chain past it */
  findings: ReturnType<Divergence["toJSON"]>[];
  /** how many findings of each code */
  counts: Partial<Record<DivergenceCode, number>>;
  /** the batch at which the replay stopped because its state could not follow the chain (null: it read to the head) */
  stoppedAt: number | null;
  /** the first finding (null: none) */
  divergence: ReturnType<Divergence["toJSON"]> | null;
  /**
   * the admin's corrections (docs/spec.md 5.5), each with the findings of the batches it struck:
   * those are not in `findings`, the corrected history is what the registry stands on
   */
  corrections: RecognisedCorrection[];
  seconds: number;
}

/** The auditor's replay of a registry's whole history, from the chain alone. */
export async function runAudit(
  provider: Provider,
  registry: string,
  options: { fromBlock?: number; blockSpan?: number; failFast?: boolean; onProgress?: (progress: FollowProgress) => void } = {},
): Promise<AuditReport> {
  const started = performance.now();
  // every finding the replay can establish, unless asked to stop at the first
  const follower = await ChainFollower.open(provider, registry, { ...options, keepGoing: !options.failFast });
  const stopped = await follower.replayToHead(options.onProgress);
  const { replayer } = follower;
  const findings = [...replayer.findings, ...(stopped ? [stopped] : [])].map((finding) => finding.toJSON());
  const counts: AuditReport["counts"] = {};
  for (const { code } of findings) counts[code] = (counts[code] ?? 0) + 1;
  return {
    ok: findings.length === 0,
    registry,
    chainId: follower.chainId.toString(),
    headBlock: follower.head,
    batches: replayer.batch,
    events: replayer.events,
    statusRoot: follower.root,
    findings,
    counts,
    stoppedAt: stopped?.batch ?? null,
    divergence: findings[0] ?? null,
    corrections: follower.corrections,
    seconds: (performance.now() - started) / 1000,
  };
}
