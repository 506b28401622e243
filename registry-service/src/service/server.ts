/**
 * The registry-service process: configuration, chain connection, journal, intake, anchoring, HTTP.
 * Run: node -r ts-node/register registry-service/src/service/server.ts (npm start does it for you).
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { getAddress, Wallet, type JsonRpcProvider } from "ethers";
import { StatusRegistry__factory } from "../../../typechain-types";
import { Hasher, PUBLISHER_ROLE_NAME, roleId, type Hex } from "../core";
import { ParallelHasher } from "../accel";
import { Batcher, readTreeSnapshot, writeTreeSnapshot, type AnchoredView } from "../anchoring";
import { AnchorFacts, ChainHistory, connectRpc, RoleFollower } from "../chain/read";
import { describeByteLimit, EthersAnchorChain, readChainRules, RemoteSigner, type AnchorStage, type PublisherSigner } from "../chain/write";
import { buildApp } from "../http/app";
import { Metrics } from "../http/metrics";
import { LockRate, type LockAlarm } from "../http/lockRate";
import { LevelJournal, PostgresJournal, type Journal } from "../journal";
import { ListPublisher, ListSigner } from "../readApi";
import { batcherEvents } from "./anchoringLog";
import type { BatchPolicy, StateOrigin } from "../intake";
import { policyProblem } from "../intake";
import { batchPolicy, consoleRpcUrl, httpLimits, journalUrl, loadConfig, loggedConfig, type Config } from "./config";
import { createLogger, type Logger } from "./logger";
import { openRegistry } from "./registry";
import { leaderOnlyChain, leadershipOf, type Leadership } from "./leadership";
import { standBy } from "./standby";
import { assertPortFree, listenRefusal, StartupError } from "./startup";

/** The publisher's account: the Wallet of PUBLISHER_KEY, or a remote signer that must hold PUBLISHER_ADDRESS. */
async function publisherAccount(config: Config, provider: JsonRpcProvider, hasher: Hasher) {
  if (config.PUBLISHER_KEY) {
    const wallet = new Wallet(config.PUBLISHER_KEY, provider);
    return { address: wallet.address, runner: wallet, signer: undefined, setting: "PUBLISHER_KEY" };
  }
  const remote = new RemoteSigner(config.PUBLISHER_SIGNER_URL!, config.PUBLISHER_ADDRESS!, hasher, RPC_TIMEOUT_MS);
  const accounts = await remote.accounts().catch((error: unknown) => {
    throw new StartupError("CHAIN_UNREACHABLE", `PUBLISHER_SIGNER_URL: ${(error as Error).message}`);
  });
  if (!accounts.some((account) => account.toLowerCase() === config.PUBLISHER_ADDRESS!.toLowerCase()))
    throw new StartupError(
      "NOT_PUBLISHER",
      `PUBLISHER_ADDRESS: the remote signer at PUBLISHER_SIGNER_URL does not hold ${config.PUBLISHER_ADDRESS}`,
    );
  return {
    address: getAddress(config.PUBLISHER_ADDRESS!),
    runner: provider,
    signer: remote as PublisherSigner,
    setting: "PUBLISHER_ADDRESS",
  };
}

/**
 * The chain as the publisher sees it: the node must answer, the registry must be there and the
 * publisher (a key, or a remote signer's account) must hold PUBLISHER_ROLE, else a StartupError
 * names the setting to fix. Also reads the chain's rules that bound one anchor (chainRules.ts).
 */
async function connectPublisher(config: Config, hasher: Hasher) {
  // fail-fast: the chain id is fixed once, so a node that goes away makes calls fail instead of
  // ethers retrying network detection forever; no response cache (it gives "nonce too low")
  const provider = await connectRpc(config.RPC_URL, RPC_TIMEOUT_MS).catch((error: unknown) => {
    throw new StartupError("CHAIN_UNREACHABLE", `RPC_URL: ${(error as Error).message}`);
  });
  try {
    const publisher = await publisherAccount(config, provider, hasher);
    const registry = StatusRegistry__factory.connect(config.REGISTRY_ADDRESS, publisher.runner);
    const { chainId } = await provider.getNetwork();
    if ((await provider.getCode(config.REGISTRY_ADDRESS)) === "0x") {
      const where = `the chain at RPC_URL ${config.RPC_URL} (chain id ${chainId})`;
      throw new StartupError("NO_REGISTRY", `REGISTRY_ADDRESS: no contract at ${config.REGISTRY_ADDRESS} on ${where}: check both`);
    }
    if (!(await registry.hasRole(roleId(PUBLISHER_ROLE_NAME), publisher.address))) {
      const lacking = `${publisher.address} does not hold ${PUBLISHER_ROLE_NAME} on ${config.REGISTRY_ADDRESS}`;
      throw new StartupError("NOT_PUBLISHER", `${publisher.setting}: its account ${lacking}`);
    }
    const depth = Number(await registry.treeDepth());
    const domain = { chainId, verifyingContract: config.REGISTRY_ADDRESS };
    // roles are followed from the registry's deployment (batch 0): no role of it changed earlier
    const deployedAt = Number((await registry.batchInfo(0)).anchoredBlock);
    const roles = new RoleFollower(new ChainHistory(provider, config.REGISTRY_ADDRESS), deployedAt, config.ROLES_MAX_AGE_SECONDS * 1000);
    const rules = await readChainRules(provider, publisher.address);
    return { provider, registry, depth, domain, roles, publisher: publisher.address, signer: publisher.signer, rules };
  } catch (error) {
    provider.destroy();
    throw error;
  }
}

/**
 * The batch policy of the settings, its byte limit lowered to what one anchor transaction can carry
 * under the chain's rules (BATCH_MAX_BYTES stays the operator's upper bound), and the line saying so.
 */
function chainBoundPolicy(config: Config, chain: Publisher): { policy: BatchPolicy; line: string } {
  const configured = batchPolicy(config);
  const { maxBytes, line } = describeByteLimit(chain.rules, configured.maxBytes);
  const policy = { ...configured, maxBytes };
  const problem = policyProblem(policy);
  if (problem) throw new StartupError("INVALID_SETTING", `BATCH_MAX_BYTES: the chain at RPC_URL bounds it: ${line}: ${problem}`);
  return { policy, line };
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

/** The journal the settings name: PostgreSQL at JOURNAL_URL, its writes fenced by the leader's epoch, else LevelDB in DATA_DIR. */
function openJournal(config: Config, leadership: Leadership | undefined): Promise<Journal> {
  if (!config.JOURNAL_URL) return LevelJournal.open(config.DATA_DIR);
  return PostgresJournal.open(journalUrl(config), { epoch: leadership!.epoch, idleInWriteMs: config.LEASE_MS }).catch((error: unknown) => {
    throw new StartupError("INVALID_SETTING", `JOURNAL_URL: ${(error as Error).message}`);
  });
}

/** The anchor client over the registry; a leader's sends only while it holds the lease. */
function anchorChain(config: Config, chain: Publisher, hasher: Hasher, leadership: Leadership | undefined) {
  const ethers = new EthersAnchorChain(
    chain.registry,
    config.CONFIRMATIONS,
    crashInjection(process.env.REGISTRY_CRASH_AT),
    hasher,
    chain.signer,
    chain.rules,
  );
  return leadership ? leaderOnlyChain(ethers, leadership, pauseInjection(process.env.REGISTRY_PAUSE_AT)) : ethers;
}

/** Journal, intake, anchored view and anchorer over the data directory, with the hashers they use. */
async function openStore(config: Config, chain: Publisher, policy: BatchPolicy, hasher: Hasher, leadership?: Leadership) {
  if (config.JOURNAL_URL) mkdirSync(config.DATA_DIR, { recursive: true }); // for the tree snapshot and the state checkpoint alone
  const bulk = await ParallelHasher.create();
  // next to LevelDB's own files, which it leaves alone (it only ever deletes names it made)
  const snapshotFile = path.join(config.DATA_DIR, "tree.snapshot");
  const checkpointFile = path.join(config.DATA_DIR, "state.checkpoint");
  try {
    const parts = await openRegistry({
      journal: await openJournal(config, leadership),
      policy,
      hasher,
      depth: chain.depth,
      chain: anchorChain(config, chain, hasher, leadership),
      bulk,
      maxInFlight: config.ANCHORS_IN_FLIGHT,
      snapshot: await readTreeSnapshot(snapshotFile, hasher, bulk),
      checkpoint: checkpointFile,
    });
    return { ...parts, hasher, bulk, snapshotFile, checkpointFile };
  } catch (error) {
    await bulk.close();
    throw error;
  }
}

type Publisher = Awaited<ReturnType<typeof connectPublisher>>;

/**
 * The standard status lists over the anchored view, when LIST_SIGNING_KEY names a key (else none).
 * Their base URL is the service's own until it listens, unless LISTS_BASE_URL says otherwise.
 */
async function openLists(config: Config, chain: Publisher, view: AnchoredView): Promise<ListPublisher | undefined> {
  if (!config.LIST_SIGNING_KEY) return undefined;
  const signer = await ListSigner.fromFile(config.LIST_SIGNING_KEY).catch((error: unknown) => {
    throw new StartupError("INVALID_SETTING", `LIST_SIGNING_KEY: ${(error as Error).message}`);
  });
  const baseUrl = config.LISTS_BASE_URL ?? `http://${config.HOST}:${config.PORT}`;
  return new ListPublisher(view, {
    signer,
    baseUrl,
    issuer: config.LIST_ISSUER ?? baseUrl,
    registry: config.REGISTRY_ADDRESS as Hex,
    chainId: Number(chain.domain.chainId),
    ttlSeconds: config.LIST_TTL_SECONDS,
    validitySeconds: config.LIST_VALIDITY_SECONDS,
    compressionLevel: config.LIST_COMPRESSION_LEVEL,
  });
}

/** An operator over its lock rate: a compromised operator key, or a mass theft to look at (docs/runbook.md). */
function lockAlarm(metrics: Metrics, log: Logger): LockAlarm {
  return (operator, locks, perMinute) => {
    metrics.lockAlarms.inc({ operator });
    log.error(
      { operator, locks, perMinute },
      "LOCK RATE ALARM: an operator asked for more locks than its limit this minute (docs/runbook.md)",
    );
  };
}

/** The store over the chain's rules: the policy they bound is logged in one line; a refusal closes the connection. */
async function openChainBoundStore(config: Config, chain: Publisher, hasher: Hasher, log: Logger, leadership?: Leadership) {
  try {
    const { policy, line } = chainBoundPolicy(config, chain);
    log.info({ rules: chain.rules, maxBytes: policy.maxBytes }, line);
    return { ...(await openStore(config, chain, policy, hasher, leadership)), policy };
  } catch (error) {
    chain.provider.destroy();
    throw error;
  }
}

/** Where intake's state came from, logged once at start: a scan of a journal that has entries is a warning (with why). */
function logOrigin(origin: StateOrigin, log: Logger): void {
  const { entries, ms } = origin;
  if (origin.from === "checkpoint") log.info({ entries, ms }, "intake state restored from the state checkpoint");
  else if (entries > 0)
    log.warn({ entries, ms, refused: origin.refused, reason: origin.reason }, "intake state rebuilt by a scan of the journal");
}

const REBASED = "re-based on the admin's approved correction: the next batch anchored is the correction (docs/runbook.md)";

export interface ServiceOptions {
  /** with JOURNAL_URL: the lease this instance already holds (the process waited for it as a standby); else taken here */
  leadership?: Leadership;
  /** called once if the lease is lost (default: the service closes; the process exits instead, docs/failover.md) */
  onLeadershipLost?: (reason: string) => void;
}

/**
 * Starts the service: refuses a taken PORT, an unreachable chain, a missing registry or a key
 * without PUBLISHER_ROLE with a StartupError; logs to `log` (tests pass a silent one). With
 * JOURNAL_URL it leads: it holds the lease (options.leadership, or taken here) and keeps it.
 */
export async function startService(config: Config, log: Logger, options: ServiceOptions = {}) {
  // refused before the chain is asked or the journal opened (a large one takes seconds to read)
  await assertPortFree(config.HOST, config.PORT, "PORT");
  log.info({ config: loggedConfig(config) }, "configuration");
  const leadership = await leadershipOf(config, options);
  if (leadership) log.info({ epoch: leadership.epoch }, "leading: the lease is this instance's");
  const service = await serve(config, log, leadership).catch(async (error: unknown) => {
    await leadership?.release();
    throw error;
  });
  if (leadership) {
    leadership.announce(service.url);
    leadership.keep((reason) => {
      log.fatal({ reason }, "LEADERSHIP LOST: this instance stops writing and anchoring (docs/failover.md)");
      if (options.onLeadershipLost) options.onLeadershipLost(reason);
      else void service.close();
    });
  }
  return { ...service, close: () => service.close().finally(() => leadership?.release()) };
}

/** The service proper: chain, store, batcher, lists, HTTP; a leader's anchors and journal writes bound to its lease. */
async function serve(config: Config, log: Logger, leadership: Leadership | undefined) {
  const hasher = await Hasher.create();
  const chain = await connectPublisher(config, hasher);
  log.info({ registry: config.REGISTRY_ADDRESS, chainId: Number(chain.domain.chainId), publisher: chain.publisher }, "registry found");
  const store = await openChainBoundStore(config, chain, hasher, log, leadership);
  const { intake, view, journal, policy } = store;
  if (store.rebased) log.warn({ ...store.rebased }, REBASED);
  logOrigin(store.origin, log);
  const metrics = new Metrics();
  // retried at least every second: anchoring resumes within about a second of the chain answering again
  const retry = { maxAgeMs: policy.maxAgeMs, maxBackoffMs: Math.max(1000, policy.maxAgeMs), heartbeatMs: config.HEARTBEAT_SECONDS * 1000 };
  const batcher = new Batcher(store.anchorer, retry, batcherEvents(metrics, log));
  const lists = await openLists(config, chain, view).catch(async (error: unknown) => {
    await Promise.all([journal.close(), store.bulk.close()]);
    chain.provider.destroy();
    throw error;
  });
  const chainWatch = watchChain(chain.roles);
  const services = {
    ...{ intake, view, journal, hasher, roles: chain.roles, domain: chain.domain, metrics, limits: httpLimits(config) },
    ...{ chain: { rpcUrl: consoleRpcUrl(config), facts: new AnchorFacts(chain.provider) }, lists },
    lockRate: new LockRate(config.OPERATOR_LOCKS_PER_MINUTE, lockAlarm(metrics, log)),
  };
  const ready = () => chainWatch.answeredRecently() && (leadership?.isLeader() ?? true);
  const app = await buildApp({ ...services, ready }, { logger: log });
  const close = async () => {
    chainWatch.stop();
    await batcher.stop();
    await app.close();
    // the next start restores the tree instead of re-hashing every leaf (a crash only costs time)
    if (view.anchor) await writeTreeSnapshot(store.snapshotFile, view.anchor.batch, view.tree);
    // and intake's state instead of scanning the journal, if nothing is written to the journal before
    const notWritten = await intake.saveCheckpoint(store.checkpointFile).catch((error: Error) => `it failed: ${error.message}`);
    if (notWritten) log.warn({ reason: notWritten }, "state checkpoint not written: the next start scans the journal");
    await journal.close();
    await store.bulk.close();
    chain.provider.destroy();
  };
  intake.onBatchFull = () => batcher.nudge();
  await chainWatch.first;
  const url = await app.listen({ host: config.HOST, port: config.PORT }).catch(async (error: unknown) => {
    await close();
    throw listenRefusal(error, config.HOST, config.PORT, "PORT");
  });
  if (lists && !config.LISTS_BASE_URL) {
    lists.settings.baseUrl = url;
    if (!config.LIST_ISSUER) lists.settings.issuer = url;
  }
  batcher.start(); // once nothing can refuse the start any more
  return { url, app, close };
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

/**
 * Fault injection for the paused-leader test: REGISTRY_PAUSE_AT=before-anchor makes a leader stop
 * itself (SIGSTOP) the first time it is about to send an anchor, before it checks its lease, as a
 * long pause (a VM frozen, a swap storm) would catch it. Unset in production.
 */
function pauseInjection(stage: string | undefined): () => void {
  let paused = false;
  return () => {
    if (stage !== "before-anchor" || paused) return;
    paused = true;
    process.kill(process.pid, "SIGSTOP");
  };
}

/** The process: configuration, logger, service, graceful stop; a refused start is one line on stderr and exit code 2. */
async function main() {
  const config = loadConfig();
  const log = createLogger({ level: config.LOG_LEVEL });
  const leadership = config.JOURNAL_URL ? await standBy(config, log) : undefined;
  const onLeadershipLost = () => process.exit(1); // at once: a supervisor restarts it as a standby
  const service = await startService(leadership ? { ...config, PORT: leadership.port } : config, log, {
    leadership: leadership?.leadership,
    onLeadershipLost,
  });
  const urls = { url: service.url, console: `${service.url}/console/`, docs: `${service.url}/docs`, metrics: `${service.url}/metrics` };
  log.info(urls, "registry-service ready");
  const shutdown = async (signal: NodeJS.Signals) => {
    log.info({ signal }, "stopping");
    await service.close();
    log.info("stopped");
    process.exit(0);
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}

/** The service as a process (`npm run serve`, the `mobile-id-service` bin): a refused start is one line and exit code 2. */
export function runServiceProcess(): void {
  main().catch((error: unknown) => {
    const refused = error instanceof StartupError;
    console.error(`registry-service: ${refused ? error.message : `failed to start: ${(error as Error).stack}`}`);
    process.exit(refused ? 2 : 1);
  });
}

if (require.main === module) runServiceProcess();
