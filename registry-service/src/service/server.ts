/**
 * The registry-service process: configuration, chain connection, journal, intake, anchoring, HTTP.
 * Run: node -r ts-node/register registry-service/src/service/server.ts (npm start does it for you).
 */
import path from "node:path";
import { JsonRpcProvider, Wallet } from "ethers";
import { StatusRegistry__factory } from "../../../typechain-types";
import { Hasher, PUBLISHER_ROLE_NAME } from "../core";
import { ParallelHasher } from "../accel";
import { Batcher, readTreeSnapshot, writeTreeSnapshot, type BatcherEvents } from "../anchoring";
import { RoleCache, roleId } from "../chain/read";
import { EthersAnchorChain, type AnchorStage } from "../chain/write";
import { buildApp } from "../http/app";
import { Metrics } from "../http/metrics";
import { LevelJournal } from "../journal";
import { batchPolicy, loadConfig, type Config } from "./config";
import { openRegistry } from "./registry";

/** The chain as the publisher sees it: the registry must be there and the key must hold PUBLISHER_ROLE. */
async function connectPublisher(config: Config) {
  // cacheTimeout -1: ethers' 250 ms cache gives "nonce too low" against an automining node
  const provider = new JsonRpcProvider(config.RPC_URL, undefined, { cacheTimeout: -1 });
  const publisher = new Wallet(config.PUBLISHER_KEY, provider);
  const registry = StatusRegistry__factory.connect(config.REGISTRY_ADDRESS, publisher);
  if ((await provider.getCode(config.REGISTRY_ADDRESS)) === "0x")
    throw new Error(`no contract at ${config.REGISTRY_ADDRESS} on ${config.RPC_URL}`);
  if (!(await registry.hasRole(roleId(PUBLISHER_ROLE_NAME), publisher.address))) {
    throw new Error(`${publisher.address} (PUBLISHER_KEY) does not hold ${PUBLISHER_ROLE_NAME} on ${config.REGISTRY_ADDRESS}`);
  }
  const depth = Number(await registry.treeDepth());
  const domain = { chainId: (await provider.getNetwork()).chainId, verifyingContract: config.REGISTRY_ADDRESS };
  return { provider, registry, depth, domain };
}

/** What the batcher reports goes to the metrics and the log. */
function batcherEvents(metrics: Metrics, log: (line: string) => void): BatcherEvents {
  return {
    anchored: (batch, seconds) => {
      metrics.batchSize.observe(batch.eventCount);
      metrics.anchorSeconds.observe(seconds);
      log(`anchored batch ${batch.batch} (${batch.eventCount} events) in ${seconds.toFixed(2)} s`);
    },
    failed: (error, retryInMs) => log(`anchoring failed (${(error as Error).message}); retrying in ${retryInMs} ms`),
    diverged: (error) => log(`ANCHORING STOPPED: ${error.message}`),
  };
}

export async function startService(config: Config, log: (line: string) => void = console.log) {
  const { provider, registry, depth, domain } = await connectPublisher(config);
  const policy = batchPolicy(config);
  const hasher = await Hasher.create();
  const bulk = await ParallelHasher.create();
  // next to LevelDB's own files, which it leaves alone (it only ever deletes names it made)
  const snapshotFile = path.join(config.DATA_DIR, "tree.snapshot");
  const { journal, intake, view, anchorer } = await openRegistry({
    journal: await LevelJournal.open(config.DATA_DIR),
    policy,
    hasher,
    depth,
    chain: new EthersAnchorChain(registry, config.CONFIRMATIONS, crashInjection(process.env.REGISTRY_CRASH_AT), hasher),
    bulk,
    snapshot: await readTreeSnapshot(snapshotFile, hasher, bulk),
  });
  const roles = new RoleCache(provider, config.REGISTRY_ADDRESS);
  const metrics = new Metrics();
  const batcher = new Batcher(anchorer, { maxAgeMs: policy.maxAgeMs, maxBackoffMs: 30_000 }, batcherEvents(metrics, log));
  const app = await buildApp({
    intake,
    view,
    journal,
    hasher,
    roles,
    domain,
    metrics,
    limits: { bodyLimitBytes: config.BODY_LIMIT_BYTES, verifierRequestsPerMinute: config.VERIFIER_REQUESTS_PER_MINUTE },
    ready: () => Date.now() - batcher.lastSuccess < Math.max(30_000, policy.maxAgeMs * 5),
  });
  intake.onBatchFull = () => batcher.nudge();
  const roleRefresh = setInterval(() => roles.refresh().catch(() => undefined), 2000);
  await roles.refresh().catch(() => undefined);
  batcher.start();
  const address = await app.listen({ host: config.HOST, port: config.PORT });

  return {
    url: address,
    app,
    async close() {
      clearInterval(roleRefresh);
      await batcher.stop();
      await app.close();
      // the next start restores the tree instead of re-hashing every leaf (a crash only costs time)
      if (view.anchor) await writeTreeSnapshot(snapshotFile, view.anchor.batch, view.tree);
      await journal.close();
      await bulk.close();
      provider.destroy();
    },
  };
}

/**
 * Fault injection for the crash tests: REGISTRY_CRASH_AT=<stage> makes the process kill itself
 * with SIGKILL at that stage of its first anchor, as a power cut would. Unset in production.
 */
function crashInjection(stage: string | undefined): (reached: AnchorStage) => void {
  return (reached) => {
    if (reached === stage) process.kill(process.pid, "SIGKILL");
  };
}

if (require.main === module) {
  (async () => {
    let config: Config;
    try {
      config = loadConfig();
    } catch (error) {
      console.error((error as Error).message);
      process.exit(2);
    }
    const service = await startService(config);
    console.log(`registry-service  ${service.url}/v1   docs ${service.url}/docs   metrics ${service.url}/metrics`);
    const shutdown = () => service.close().then(() => process.exit(0));
    process.once("SIGINT", shutdown);
    process.once("SIGTERM", shutdown);
  })().catch((error) => {
    console.error(`registry-service failed to start: ${(error as Error).message}`);
    process.exit(1);
  });
}
