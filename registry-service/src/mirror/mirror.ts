import { JsonRpcProvider, type Provider } from "ethers";
import { Hasher, type Hex } from "../core";
import { ChainFollower, type FollowProgress } from "../audit/follower";
import { pollFollower } from "../audit/polling";
import { AnchorFacts } from "../chain/read";
import {
  anchoredStatusReader,
  ApiError,
  baseApp,
  batchContentRoutes,
  type BatchContent,
  consoleRoutes,
  ListPublisher,
  listRoutes,
  readinessRoute,
  statusRoutes,
  type BaseApp,
  type ListSigner,
  type OverviewSource,
} from "../readApi";
import { AuditProgress } from "../wire";

export interface MirrorOptions {
  provider: Provider;
  registry: string;
  host?: string;
  port?: number;
  /** how often to look for new anchors, ms */
  pollMs?: number;
  /** serve a batch only once its anchor is this many blocks deep (default 1: the head; the service's CONFIRMATIONS on a chain that can reorganise) */
  confirmations?: number;
  requestsPerMinute?: number;
  /** the chain node the console's pages ask from the browser (default: the provider's URL when it is a JSON-RPC provider) */
  rpcUrl?: string;
  onProgress?: (progress: FollowProgress) => void;
  log?: (line: string) => void;
  /**
   * Publish the standard status lists from the replay, signed with this mirror's own key (docs/spec.md
   * 7.4); without a key the mirror publishes none (the audit checks the service's lists instead).
   */
  lists?: { signer: ListSigner; baseUrl?: string; ttlSeconds?: number; validitySeconds?: number };
  /** more routes, registered before it listens (a standby service's refusal of writes, service/standby.ts) */
  routes?: (app: BaseApp) => Promise<void>;
}

/**
 * The verifiers' read API served from the chain alone: the mirror replays (and so audits) every
 * anchored batch into a tree of its own and proves against the latest root it replayed. It trusts
 * nothing the issuer's service says; a divergence stops it serving.
 */
export async function startMirror(options: MirrorOptions) {
  const log = options.log ?? (() => undefined);
  const follower = await ChainFollower.open(options.provider, options.registry, { confirmations: options.confirmations });
  const initial = await follower.catchUp(options.onProgress);
  if (initial) log(`mirror: chain history diverges: ${initial.message}`);
  const polling = pollFollower(follower, { pollMs: options.pollMs ?? 1000, label: "mirror", log });
  const health = () => ({
    batch: follower.replayer.batch,
    statusRoot: follower.root as Hex,
    events: follower.replayer.events,
    divergence: follower.divergence?.toJSON() ?? null,
    chainError: polling.lastError() ?? null,
  });
  const lists = mirrorLists(follower, options);
  const app = await mirrorApp(follower, {
    ...options,
    health,
    ready: () => !follower.divergence && !polling.lastError(),
    publisher: lists,
  });
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

interface MirrorAppOptions extends MirrorOptions {
  health: () => { chainError: string | null };
  ready: () => boolean;
  publisher?: ListPublisher;
}

/** The verifiers' read API over the follower's replay, plus health, readiness, the audit's progress, the lists and the console. */
async function mirrorApp(follower: ChainFollower, options: MirrorAppOptions) {
  // synchronous from here on: a batch is replayed whole between two reads (a correction's re-base too)
  const guard = () => {
    if (follower.divergence) throw new ApiError("CHAIN_DIVERGED", 503, `this mirror stopped: ${follower.divergence.message}`);
  };
  const reader = anchoredStatusReader(follower.replayer, { guard });
  const app = await baseApp({ title: "Mobile-ID status mirror" });
  await app.register(statusRoutes(reader, { requestsPerMinute: options.requestsPerMinute ?? 600_000 }), { prefix: "/v1" });
  if (options.publisher) await app.register(listRoutes(options.publisher, { guard }), { prefix: "/v1" });
  await app.register(batchContentRoutes(mirrorBatches(follower), await Hasher.create()), { prefix: "/v1" });
  app.get("/health", { schema: { tags: ["operations"] } }, async () => options.health());
  await app.register(readinessRoute(options.ready));
  const auditSchema = {
    tags: ["auditor"],
    summary: "This mirror's replay of the chain: progress and the first divergence",
    response: { 200: AuditProgress },
  };
  app.get("/v1/audit", { schema: auditSchema }, async () => ({
    batch: follower.replayer.batch,
    latestBatch: await chainLatestBatch(follower),
    headBlock: follower.head,
    events: follower.replayer.events,
    statusRoot: follower.root,
    divergence: follower.divergence?.toJSON() ?? null,
    chainError: options.health().chainError,
  }));
  const rpcUrl = options.rpcUrl ?? (options.provider instanceof JsonRpcProvider ? options.provider._getConnection().url : "");
  await app.register(consoleRoutes({ overview: mirrorOverview(follower, options), depth: reader.depth, rpcUrl }));
  await options.routes?.(app);
  return app;
}

/** The contents of the batches the follower still remembers, as the chain and the replay give them; older ones are the service's. */
function mirrorBatches(follower: ChainFollower): { content(batch: number): BatchContent } {
  return {
    content(batch) {
      const recent = follower.recentBatch(batch);
      if (!recent?.contents)
        throw new ApiError(
          "NOT_FOUND",
          404,
          `this mirror keeps the contents of the last ${follower.recent.length} batches it replayed, not batch ${batch}: the service's /v1/batches has every batch`,
        );
      const { previousRoot, statusRoot, eventRoot, eventCount, eventDataHash, transactionHash, blockNumber, correction } = recent;
      const summary = { batch, state: "anchored" as const, previousRoot, statusRoot, eventRoot, eventCount, eventDataHash };
      return {
        summary: { ...summary, transactionHash, blockNumber, ...(correction && { correction }) },
        submissions: recent.contents.submissions.map((submission, i) => ({ signer: recent.contents!.signers[i], ...submission })),
        applied: recent.contents.applied,
        eventTree: recent.contents.eventTree,
      };
    },
  };
}

/** The chain's latest batch number, or null when the chain does not answer. */
async function chainLatestBatch(follower: ChainFollower): Promise<number | null> {
  return follower.history.contract.latestBatch().then(
    (latest: { batch: bigint }) => Number(latest.batch),
    () => null,
  );
}

/** The mirror's overview: what it replayed from the chain, and how many anchored batches it has not replayed yet. */
function mirrorOverview(follower: ChainFollower, options: MirrorOptions): OverviewSource {
  const facts = new AnchorFacts(options.provider);
  const line = (anchor: { batch: number; eventCount: number; statusRoot: Hex; transactionHash: Hex; blockNumber: number }) => {
    const { batch, eventCount, statusRoot, transactionHash, blockNumber } = anchor;
    return { batch, state: "anchored" as const, eventCount, statusRoot, transactionHash, blockNumber };
  };
  return {
    server: "mirror",
    chainId: Number(follower.chainId),
    registry: options.registry as Hex,
    facts: (transactionHash, blockNumber) => facts.of(transactionHash, blockNumber),
    async parts() {
      const latestBatch = await chainLatestBatch(follower);
      const { anchor, events } = follower.replayer;
      return {
        latest: anchor && line(anchor),
        recent: follower.recent.map(line),
        waiting: latestBatch === null ? null : Math.max(0, latestBatch - follower.replayer.batch),
        totalEvents: events,
      };
    },
  };
}
