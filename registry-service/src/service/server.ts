/**
 * The registry-service process: configuration, chain connection, journal, intake, anchoring, HTTP.
 * Run: node -r ts-node/register registry-service/src/service/server.ts (npm start does it for you).
 */
import path from "node:path";
import { Wallet } from "ethers";
import { StatusRegistry__factory } from "../../../typechain-types";
import { Hasher, PUBLISHER_ROLE_NAME } from "../core";
import { ParallelHasher } from "../accel";
import { Batcher, readTreeSnapshot, writeTreeSnapshot, type BatcherEvents } from "../anchoring";
import { ChainHistory, connectRpc, RoleFollower, roleId } from "../chain/read";
import { EthersAnchorChain, type AnchorStage } from "../chain/write";
import { buildApp } from "../http/app";
import { Metrics } from "../http/metrics";
import { LevelJournal } from "../journal";
import { batchPolicy, httpLimits, loadConfig, type Config } from "./config";
import { openRegistry } from "./registry";

/** The chain as the publisher sees it: the registry must be there and the key must hold PUBLISHER_ROLE. */
async function connectPublisher(config: Config) {
  // fail-fast: the chain id is fixed once, so a node that goes away makes calls fail instead of
  // ethers retrying network detection forever; no response cache (it gives "nonce too low")
  const provider = await connectRpc(config.RPC_URL, RPC_TIMEOUT_MS);
  const publisher = new Wallet(config.PUBLISHER_KEY, provider);
  const registry = StatusRegistry__factory.connect(config.REGISTRY_ADDRESS, publisher);
  if ((await provider.getCode(config.REGISTRY_ADDRESS)) === "0x")
    throw new Error(`no contract at ${config.REGISTRY_ADDRESS} on ${config.RPC_URL}`);
  if (!(await registry.hasRole(roleId(PUBLISHER_ROLE_NAME), publisher.address))) {
    throw new Error(`${publisher.address} (PUBLISHER_KEY) does not hold ${PUBLISHER_ROLE_NAME} on ${config.REGISTRY_ADDRESS}`);
  }
  const depth = Number(await registry.treeDepth());
  const domain = { chainId: (await provider.getNetwork()).chainId, verifyingContract: config.REGISTRY_ADDRESS };
  // roles are followed from the registry's deployment (batch 0): no role of it changed earlier
  const deployedAt = Number((await registry.batchInfo(0)).anchoredBlock);
  const roles = new RoleFollower(new ChainHistory(provider, config.REGISTRY_ADDRESS), deployedAt, config.ROLES_MAX_AGE_SECONDS * 1000);
  return { provider, registry, depth, domain, roles };
}

/** How long one JSON-RPC request may take (an anchor's gas estimate over 350 kB of calldata included). */
const RPC_TIMEOUT_MS = 30_000;

/** How long the chain may stay silent before /ready says no. */
const CHAIN_SILENCE_MS = 3500;

/**
 * Reads the chain every second, through the role follower (which follows role changes that way):
 * the service is ready while the chain answered within CHAIN_SILENCE_MS.
 */
function watchChain(roles: RoleFollower) {
  let lastAnswer = 0;
  let asking: Promise<void> | undefined;
  // one question at a time: a frozen node must not collect a pile of unanswered ones
  const poll = () =>
    (asking ??= roles
      .advance()
      .then(
        () => void (lastAnswer = Date.now()),
        () => undefined,
      )
      .finally(() => (asking = undefined)));
  const timer = setInterval(poll, 1000);
  return { first: poll(), answeredRecently: () => Date.now() - lastAnswer < CHAIN_SILENCE_MS, stop: () => clearInterval(timer) };
}

/** What the batcher reports goes to the metrics and the log. */
function batcherEvents(metrics: Metrics, log: (line: string) => void): BatcherEvents {
  return {
    anchored: (batch, seconds) => {
      metrics.batchSize.observe(batch.eventCount);
      metrics.anchorSeconds.observe(seconds);
      log(`anchored batch ${batch.batch} (${batch.eventCount} events) in ${seconds.toFixed(2)} s`);
    },
    failed: (error, retryInMs, failures) => {
      // an outage is logged as it starts and then at 2, 4, 8.. failures, not once a second
      if ((failures & (failures - 1)) === 0)
        log(`anchoring failed ${failures} time(s) (${(error as Error).message}); retrying every ${retryInMs} ms`);
    },
    recovered: (failures) => log(`anchoring works again after ${failures} failure(s)`),
    diverged: (error) => {
      metrics.halted.set(1);
      log(`ANCHORING AND INTAKE STOPPED (docs/runbook.md): ${error.message}`);
    },
  };
}

export async function startService(config: Config, log: (line: string) => void = console.log) {
  const { provider, registry, depth, domain, roles } = await connectPublisher(config);
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
  const metrics = new Metrics();
  // retried at least every second: anchoring resumes within about a second of the chain answering again
  const retry = { maxAgeMs: policy.maxAgeMs, maxBackoffMs: Math.max(1000, policy.maxAgeMs) };
  const batcher = new Batcher(anchorer, retry, batcherEvents(metrics, log));
  const chainWatch = watchChain(roles);
  const app = await buildApp({
    intake,
    view,
    journal,
    hasher,
    roles,
    domain,
    metrics,
    limits: httpLimits(config),
    ready: chainWatch.answeredRecently,
  });
  intake.onBatchFull = () => batcher.nudge();
  await chainWatch.first;
  batcher.start();
  const address = await app.listen({ host: config.HOST, port: config.PORT });

  return {
    url: address,
    app,
    async close() {
      chainWatch.stop();
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
