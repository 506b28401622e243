/**
 * The registry-service process: configuration, chain connection, store, anchoring loop, HTTP.
 * Run: node -r ts-node/register registry-service/src/server.ts (npm start does it for you).
 */
import path from "node:path";
import { JsonRpcProvider, Wallet } from "ethers";
import { StatusRegistry__factory } from "../../typechain-types";
import { Hasher, ParallelHasher } from "./core";
import { Anchorer } from "./batching/anchorer";
import { Batcher } from "./batching/batcher";
import { EthersAnchorChain, type AnchorStage } from "./batching/chainClient";
import { RoleCache } from "./chain/roleCache";
import { loadConfig, type Config } from "./config";
import { buildApp } from "./http/app";
import { Metrics } from "./http/metrics";
import { RegistryStore } from "./storage/registryStore";
import { readTreeSnapshot, writeTreeSnapshot } from "./storage/treeSnapshot";

export async function startService(config: Config, log: (line: string) => void = console.log) {
  // cacheTimeout -1: ethers' 250 ms cache gives "nonce too low" against an automining node
  const provider = new JsonRpcProvider(config.RPC_URL, undefined, { cacheTimeout: -1 });
  const publisher = new Wallet(config.PUBLISHER_KEY, provider);
  const registry = StatusRegistry__factory.connect(config.REGISTRY_ADDRESS, publisher);
  if ((await provider.getCode(config.REGISTRY_ADDRESS)) === "0x")
    throw new Error(`no contract at ${config.REGISTRY_ADDRESS} on ${config.RPC_URL}`);
  if (!(await registry.hasRole(await registry.PUBLISHER_ROLE(), publisher.address))) {
    throw new Error(`${publisher.address} (PUBLISHER_KEY) does not hold PUBLISHER_ROLE on ${config.REGISTRY_ADDRESS}`);
  }
  const depth = Number(await registry.treeDepth());
  const domain = { chainId: (await provider.getNetwork()).chainId, verifyingContract: config.REGISTRY_ADDRESS };

  const store = await RegistryStore.open(config.DATA_DIR, {
    maxBatchEvents: config.BATCH_MAX_EVENTS,
    maxBatchBytes: config.BATCH_MAX_BYTES,
  });
  const hasher = await Hasher.create();
  const parallel = await ParallelHasher.create();
  const chain = new EthersAnchorChain(registry, config.CONFIRMATIONS, crashInjection(process.env.REGISTRY_CRASH_AT), hasher);
  // next to LevelDB's own files, which it leaves alone (it only ever deletes names it made)
  const snapshotFile = path.join(config.DATA_DIR, "tree.snapshot");
  const anchorer = await Anchorer.open(store, hasher, depth, chain, parallel, await readTreeSnapshot(snapshotFile, hasher, parallel));
  const roles = new RoleCache(registry);
  const metrics = new Metrics();
  const batcher = new Batcher(
    anchorer,
    { intervalMs: config.BATCH_INTERVAL_MS, maxBackoffMs: 30_000 },
    {
      anchored: (batch, seconds) => {
        metrics.batchSize.observe(batch.eventCount);
        metrics.anchorSeconds.observe(seconds);
        log(`anchored batch ${batch.batch} (${batch.eventCount} events) in ${seconds.toFixed(2)} s`);
      },
      failed: (error, retryInMs) => log(`anchoring failed (${(error as Error).message}); retrying in ${retryInMs} ms`),
      diverged: (error) => log(`ANCHORING STOPPED: ${error.message}`),
    },
  );
  const app = await buildApp({
    store,
    anchorer,
    hasher,
    roles,
    domain,
    metrics,
    limits: {
      maxBacklog: config.MAX_BACKLOG,
      bodyLimitBytes: config.BODY_LIMIT_BYTES,
      verifierRequestsPerMinute: config.VERIFIER_REQUESTS_PER_MINUTE,
    },
    ready: () => Date.now() - batcher.lastSuccess < Math.max(30_000, config.BATCH_INTERVAL_MS * 5),
  });
  store.onBatchFull = () => batcher.nudge();
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
      if (anchorer.anchored) await writeTreeSnapshot(snapshotFile, anchorer.anchored.batch, anchorer.tree);
      await store.close();
      await parallel.close();
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
