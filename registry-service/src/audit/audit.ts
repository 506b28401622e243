import type { Provider } from "ethers";
import { ChainFollower, type FollowProgress } from "./follower";
import type { Divergence } from "./replay";

export interface AuditReport {
  ok: boolean;
  registry: string;
  chainId: string;
  /** the last block read */
  headBlock: number;
  /** batches and events replayed cleanly */
  batches: number;
  events: number;
  /** the replayed status root after the last clean batch */
  statusRoot: string;
  divergence: ReturnType<Divergence["toJSON"]> | null;
  seconds: number;
}

/** The auditor's replay of a registry's whole history, from the chain alone. */
export async function runAudit(
  provider: Provider,
  registry: string,
  options: { fromBlock?: number; blockSpan?: number; onProgress?: (progress: FollowProgress) => void } = {},
): Promise<AuditReport> {
  const started = performance.now();
  const follower = await ChainFollower.open(provider, registry, options);
  const divergence = await follower.replayToHead(options.onProgress);
  const { replayer } = follower;
  return {
    ok: !divergence,
    registry,
    chainId: follower.chainId.toString(),
    headBlock: follower.head,
    batches: replayer.batch,
    events: replayer.events,
    statusRoot: follower.root,
    divergence: divergence?.toJSON() ?? null,
    seconds: (performance.now() - started) / 1000,
  };
}
