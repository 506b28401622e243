import type { Provider } from "ethers";
import type { Hex } from "../core";
import { ChainFollower, type FollowProgress } from "../audit/follower";
import {
  anchoredStatusReader,
  ApiError,
  baseApp,
  ListPublisher,
  listRoutes,
  readinessRoute,
  statusRoutes,
  type ListSigner,
} from "../readApi";

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
  /**
   * Publish the standard status lists from the replay, signed with this mirror's own key (docs/spec.md
   * 7.4); without a key the mirror publishes none (the audit checks the service's lists instead).
   */
  lists?: { signer: ListSigner; baseUrl?: string; ttlSeconds?: number; validitySeconds?: number };
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
  const lists = mirrorLists(follower, options);
  const app = await mirrorApp(
    follower,
    options.requestsPerMinute ?? 600_000,
    health,
    () => !follower.divergence && !polling.lastError(),
    lists,
  );
  const address = await app.listen({ host: options.host ?? "127.0.0.1", port: options.port ?? 8090 });
  if (lists && !options.lists?.baseUrl) Object.assign(lists.settings, { baseUrl: address, issuer: address });
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

/** The lists of the replayed state, signed with the mirror's key. */
function mirrorLists(follower: ChainFollower, mirror: MirrorOptions): ListPublisher | undefined {
  const options = mirror.lists;
  if (!options) return undefined;
  const baseUrl = options.baseUrl ?? "http://127.0.0.1";
  return new ListPublisher(follower.replayer, {
    signer: options.signer,
    baseUrl,
    issuer: baseUrl,
    registry: mirror.registry as Hex,
    chainId: Number(follower.chainId),
    ttlSeconds: options.ttlSeconds ?? 10,
    validitySeconds: options.validitySeconds ?? 300,
  });
}

/** The verifiers' read API over the follower's replay, plus health and readiness. */
async function mirrorApp(
  follower: ChainFollower,
  requestsPerMinute: number,
  health: () => object,
  ready: () => boolean,
  lists?: ListPublisher,
) {
  // synchronous from here on: a batch is replayed whole between two reads
  const guard = () => {
    if (follower.divergence) throw new ApiError("CHAIN_DIVERGED", 503, `this mirror stopped: ${follower.divergence.message}`);
  };
  const reader = anchoredStatusReader(follower.replayer, { guard });
  const app = await baseApp({ title: "Mobile-ID status mirror" });
  await app.register(statusRoutes(reader, { requestsPerMinute }), { prefix: "/v1" });
  if (lists) await app.register(listRoutes(lists, { guard }), { prefix: "/v1" });
  app.get("/health", { schema: { tags: ["operations"] } }, async () => health());
  await app.register(readinessRoute(ready));
  return app;
}

/** Catches the follower up every `pollMs` until stopped or diverged; remembers why the chain last failed to answer. */
function poll(follower: ChainFollower, pollMs: number, log: (line: string) => void) {
  let stopped = false;
  let lastError: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  const step = async () => {
    try {
      const divergence = await follower.catchUp();
      if (divergence && !stopped) log(`mirror: chain history diverges: ${divergence.message}`);
      lastError = undefined;
    } catch (error) {
      lastError = (error as Error).message.split("\n")[0];
      log(`mirror: chain unreachable, retrying: ${lastError}`);
    }
    if (!stopped && !follower.divergence) timer = setTimeout(step, pollMs);
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
