import { Type } from "@sinclair/typebox";
import type { Provider } from "ethers";
import type { Hex } from "../core";
import { ChainFollower, type FollowProgress } from "../audit/follower";
import { anchoredStatusReader, ApiError, baseApp, statusRoutes } from "../readApi";

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
  let lastError: string | undefined;

  // synchronous from here on: a batch is replayed whole between two reads
  const reader = anchoredStatusReader(follower.replayer, {
    guard: () => {
      if (follower.divergence) throw new ApiError("CHAIN_DIVERGED", 503, `this mirror stopped: ${follower.divergence.message}`);
    },
  });

  const app = await baseApp({ title: "Mobile-ID status mirror" });
  await app.register(statusRoutes(reader, { requestsPerMinute: options.requestsPerMinute ?? 600_000 }), { prefix: "/v1" });
  const health = () => ({
    batch: follower.replayer.batch,
    statusRoot: follower.root as Hex,
    events: follower.replayer.events,
    divergence: follower.divergence?.toJSON() ?? null,
    chainError: lastError ?? null,
  });
  app.get("/health", { schema: { tags: ["operations"] } }, async () => health());
  app.get(
    "/ready",
    {
      schema: {
        tags: ["operations"],
        response: { 200: Type.Object({ ready: Type.Boolean() }), 503: Type.Object({ ready: Type.Boolean() }) },
      },
    },
    async (_request, reply) => {
      const ready = !follower.divergence && !lastError;
      return reply.status(ready ? 200 : 503).send({ ready });
    },
  );

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const poll = async () => {
    try {
      const divergence = await follower.catchUp();
      if (divergence && !stopped) log(`mirror: chain history diverges: ${divergence.message}`);
      lastError = undefined;
    } catch (error) {
      lastError = (error as Error).message.split("\n")[0];
      log(`mirror: chain unreachable, retrying: ${lastError}`);
    }
    if (!stopped && !follower.divergence) timer = setTimeout(poll, options.pollMs ?? 1000);
  };
  timer = setTimeout(poll, options.pollMs ?? 1000);

  const address = await app.listen({ host: options.host ?? "127.0.0.1", port: options.port ?? 8090 });
  return {
    url: address,
    follower,
    health,
    /** replays whatever is new right now (tests use it instead of waiting for the poll) */
    sync: () => follower.catchUp(),
    async close() {
      stopped = true;
      clearTimeout(timer);
      await app.close();
    },
  };
}
