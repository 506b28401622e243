import type { Provider } from "ethers";
import type { Hex } from "../core";
import { ChainFollower, type FollowProgress } from "../audit/follower";
import { anchoredStatusReader, ApiError, baseApp, readinessRoute, statusRoutes } from "../readApi";

export interface MirrorOptions {
  provider: Provider;
  registry: string;
  host?: string;
  port?: number;
  /** how often to look for new anchors, ms */
  pollMs?: number;
  requestsPerMinute?: number;
  onProgress?: (progress: FollowProgress) => void;
  log?: (line: string) => void;
}

/**
 * The verifiers' read API served from the chain alone: the mirror replays (and so audits) every
 * anchored batch into a tree of its own and proves against the latest root it replayed. It trusts
 * nothing the issuer's service says; a divergence stops it serving.
 */
export async function startMirror(options: MirrorOptions) {
  const log = options.log ?? (() => undefined);
  const follower = await ChainFollower.open(options.provider, options.registry);
  const initial = await follower.catchUp(options.onProgress);
  if (initial) log(`mirror: chain history diverges: ${initial.message}`);
  const polling = poll(follower, options.pollMs ?? 1000, log);
  const health = () => ({
    batch: follower.replayer.batch,
    statusRoot: follower.root as Hex,
    events: follower.replayer.events,
    divergence: follower.divergence?.toJSON() ?? null,
    chainError: polling.lastError() ?? null,
  });
  const app = await mirrorApp(follower, options.requestsPerMinute ?? 600_000, health, () => !follower.divergence && !polling.lastError());
  const address = await app.listen({ host: options.host ?? "127.0.0.1", port: options.port ?? 8090 });
  return {
    url: address,
    follower,
    health,
    /** replays whatever is new right now (tests use it instead of waiting for the poll) */
    sync: () => follower.catchUp(),
    async close() {
      polling.stop();
      await app.close();
    },
  };
}

/** The verifiers' read API over the follower's replay, plus health and readiness. */
async function mirrorApp(follower: ChainFollower, requestsPerMinute: number, health: () => object, ready: () => boolean) {
  // synchronous from here on: a batch is replayed whole between two reads; a correction replaces
  // the follower's replay, so it is read through the follower each time
  const replay = {
    get tree() {
      return follower.replayer.tree;
    },
    get anchor() {
      return follower.replayer.anchor;
    },
    record: (index: number) => follower.replayer.record(index),
  };
  const reader = anchoredStatusReader(replay, {
    guard: () => {
      if (follower.divergence) throw new ApiError("CHAIN_DIVERGED", 503, `this mirror stopped: ${follower.divergence.message}`);
    },
  });
  const app = await baseApp({ title: "Mobile-ID status mirror" });
  await app.register(statusRoutes(reader, { requestsPerMinute }), { prefix: "/v1" });
  app.get("/health", { schema: { tags: ["operations"] } }, async () => health());
  await app.register(readinessRoute(ready));
  return app;
}

/**
 * Catches the follower up every `pollMs` until stopped, diverged or not (a correction may come);
 * remembers why the chain last failed to answer.
 */
function poll(follower: ChainFollower, pollMs: number, log: (line: string) => void) {
  let stopped = false;
  let lastError: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let reported = follower.divergence;
  const step = async () => {
    try {
      const divergence = await follower.catchUp();
      if (divergence && divergence !== reported && !stopped) log(`mirror: chain history diverges: ${divergence.message}`);
      if (!divergence && reported) log(`mirror: serving again after the admin's correction (batch ${follower.replayer.batch})`);
      reported = divergence;
      lastError = undefined;
    } catch (error) {
      lastError = (error as Error).message.split("\n")[0];
      log(`mirror: chain unreachable, retrying: ${lastError}`);
    }
    if (!stopped) timer = setTimeout(step, pollMs);
  };
  timer = setTimeout(step, pollMs);
  return {
    lastError: () => lastError,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
