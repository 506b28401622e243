import { connectRpc } from "../chain/read";
import { startMirror } from "../mirror/mirror";
import { ApiError } from "../readApi";
import type { PostgresLease } from "../journal";
import { consoleRpcUrl, type Config } from "./config";
import { Leadership, leaseOptions, openLease } from "./leadership";
import type { Logger } from "./logger";
import { assertPortFree, StartupError } from "./startup";

/** How long one JSON-RPC request of the standby's replay may take. */
const RPC_TIMEOUT_MS = 30_000;

/**
 * A standby's HTTP server while another instance leads (JOURNAL_URL, docs/failover.md): the read
 * API of a mirror (status and proofs from its own replay of the chain, recent batches and receipts,
 * the console, /v1/audit), and writes, with what only the journal holds (a submission's standing,
 * the batch list, the signing domain), answered 503 NOT_LEADER with Retry-After, naming the leader's URL. It holds the port the
 * instance serves on once it takes over.
 */
async function startStandby(config: Config, lease: PostgresLease, retryAfterSeconds: number, log: Logger) {
  const provider = await connectRpc(config.RPC_URL, RPC_TIMEOUT_MS).catch((error: unknown) => {
    throw new StartupError("CHAIN_UNREACHABLE", `RPC_URL: ${(error as Error).message}`);
  });
  const notLeader = async () => {
    const leader = await lease.current().catch(() => undefined);
    const where = leader?.valid ? `the leader is at ${leader.url}` : "no instance leads right now (a take-over is under way)";
    throw new ApiError("NOT_LEADER", 503, `this instance is a standby: ${where}; send writes there, or retry`, retryAfterSeconds);
  };
  const mirror = await startMirror({
    provider,
    registry: config.REGISTRY_ADDRESS,
    host: config.HOST,
    port: config.PORT,
    rpcUrl: consoleRpcUrl(config),
    confirmations: config.CONFIRMATIONS, // a standby serves no root the leader would not serve yet
    log: (line) => log.warn(line),
    routes: async (app) => {
      app.post("/v1/submissions", { schema: { hide: true } }, notLeader);
      app.get("/v1/submissions/*", { schema: { hide: true } }, notLeader);
      app.get("/v1/batches", { schema: { hide: true } }, notLeader);
      app.get("/v1/domain", { schema: { hide: true } }, notLeader);
    },
  }).catch((error: unknown) => {
    provider.destroy();
    throw error;
  });
  const { port } = new URL(mirror.url);
  return {
    url: mirror.url,
    port: Number(port),
    async close() {
      await mirror.close();
      provider.destroy();
    },
  };
}

/**
 * With JOURNAL_URL: the lease, at once if it is free; else, until this instance holds it, a standby
 * on HOST:PORT serving reads (a mirror's) and refusing writes, logged as "registry-service standing
 * by". Then the port it had, for the leader to serve on.
 */
export async function standBy(config: Config, log: Logger) {
  await assertPortFree(config.HOST, config.PORT, "PORT");
  const lease = await openLease(config);
  const options = leaseOptions(config);
  const atOnce = await Leadership.tryAcquire(lease, options);
  if (atOnce) return { leadership: atOnce, port: config.PORT };
  const standby = await startStandby(config, lease, Math.ceil(options.ttlMs / 1000), log).catch(async (error: unknown) => {
    await lease.close();
    throw error;
  });
  log.info({ url: standby.url }, "registry-service standing by");
  const leadership = await Leadership.acquire(lease, options);
  await standby.close();
  log.info({ epoch: leadership.epoch }, "taking over: the lease is this instance's");
  return { leadership, port: standby.port };
}
