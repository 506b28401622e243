/**
 * npm start: the embedded chain (Hardhat's node on 127.0.0.1:CHAIN_PORT, default 8545), a fresh
 * registry with the dev roles, and the registry service on 127.0.0.1:PORT (default 8080) with its
 * LevelDB under START_DATA_DIR (default ./data/embedded). The embedded chain lives in memory, so
 * the service's data is reset at every start.
 *
 * A bad setting or a taken port: one line on stderr and exit code 2, before anything is started
 * (never a registry deployed on a chain someone else runs). The chain dying: one line, exit code 1.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ZeroAddress } from "ethers";
import { deployDevRegistry, devAccount, startEmbeddedChain } from "./embedded-chain";
import { loadConfig } from "../registry-service/src/service/config";
import { createLogger } from "../registry-service/src/service/logger";
import { startService } from "../registry-service/src/service/server";
import { assertPortFree, listenRefusal, StartupError } from "../registry-service/src/service/startup";
import { ListSigner } from "../registry-service/src/readApi";

const ROOT = path.join(__dirname, "..");
const CHAIN_HOST = "127.0.0.1";

/** npm start's settings, all checked before anything starts: CHAIN_PORT, START_DATA_DIR and the service's. */
function settings(env: NodeJS.ProcessEnv) {
  const chainPort = Number(env.CHAIN_PORT ?? 8545);
  if (!/^\d+$/.test(env.CHAIN_PORT ?? "8545") || chainPort > 65535) {
    throw new StartupError("INVALID_SETTING", `invalid configuration: CHAIN_PORT: expected a port (0 to 65535), got "${env.CHAIN_PORT}"`);
  }
  const dataDir = path.resolve(ROOT, env.START_DATA_DIR || path.join("data", "embedded"));
  // the registry's address is known once it is deployed: a placeholder until then
  const service = { REGISTRY_ADDRESS: ZeroAddress, PUBLISHER_KEY: devAccount(1).privateKey, DATA_DIR: path.join(dataDir, "service") };
  return { chainPort, dataDir, config: loadConfig({ ...env, ...service }) };
}

/**
 * Claims `dataDir` for this process (its pid in a file there), refusing one that a running npm start
 * holds: a second npm start on other ports would otherwise delete the first one's journal under it.
 */
function claimDataDir(dataDir: string): void {
  const claim = path.join(dataDir, "npm-start.pid");
  const holder = existsSync(claim) ? Number(readFileSync(claim, "utf8")) : undefined;
  if (holder && holder !== process.pid && alive(holder))
    throw new StartupError(
      "DATA_DIR_IN_USE",
      `START_DATA_DIR ${dataDir} is in use by another npm start (pid ${holder}): stop it, or set START_DATA_DIR to another folder`,
    );
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(claim, String(process.pid));
  process.once("exit", () => rmSync(claim, { force: true }));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Runs `closers` in order once (the service's before the chain's), whatever fails, then exits with `exitCode`. */
function stopper(closers: (() => Promise<unknown>)[]) {
  let stopping: Promise<never> | undefined;
  return (exitCode: number) =>
    (stopping ??= (async () => {
      for (const close of closers) await close().catch(() => undefined);
      process.exit(exitCode);
    })());
}

/**
 * A fresh dev list-signing key for this start (LIST_SIGNING_KEY unset): the private JWK for the
 * service and the public one beside it, for verifiers to pin (`mobile-id verify --via-list --list-key`).
 */
async function devListKey(dataDir: string): Promise<string> {
  const file = path.join(dataDir, "list-key.jwk");
  const jwk = await ListSigner.generateJwk();
  writeFileSync(file, JSON.stringify(jwk), { mode: 0o600 });
  const signer = await ListSigner.fromJwk(jwk);
  writeFileSync(path.join(dataDir, "list-key.public.jwk"), JSON.stringify(signer.publicJwk));
  return file;
}

async function main() {
  const { chainPort, dataDir, config } = settings(process.env);
  const log = createLogger({ level: config.LOG_LEVEL, pretty: process.stdout.isTTY });
  await assertPortFree(CHAIN_HOST, chainPort, "CHAIN_PORT");
  await assertPortFree(config.HOST, config.PORT, "PORT");
  claimDataDir(dataDir);
  // the probe above can lose a race: the node's own EADDRINUSE is refused the same way
  const chain = await startEmbeddedChain(chainPort, 60_000, "hardhat", { ownProcessGroup: true }).catch((error: unknown) => {
    throw listenRefusal(error, CHAIN_HOST, chainPort, "CHAIN_PORT");
  });
  // in its own process group, the node outlives this process unless told: whatever ends this ends it
  process.once("exit", () => chain.process.kill());
  const closers = [() => chain.stop()];
  const stop = stopper(closers);
  chain.onDeath((how) => {
    console.error(`npm start: the embedded chain stopped (${how}); the service stops with it`);
    void stop(1);
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(signal, () => void stop(0));

  for (const stale of ["service", "deployment.json"]) rmSync(path.join(dataDir, stale), { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const deployment = deployDevRegistry(chain.rpcUrl, path.join(dataDir, "deployment.json"));
  const listKey = config.LIST_SIGNING_KEY ?? (await devListKey(dataDir));
  const service = await startService(
    { ...config, RPC_URL: chain.rpcUrl, REGISTRY_ADDRESS: deployment.address, LIST_SIGNING_KEY: listKey },
    log,
  );
  closers.unshift(() => service.close());
  const [publisher, issuer, operator] = [1, 2, 3].map((n) => devAccount(n).address);
  const ready = {
    chain: chain.rpcUrl,
    chainId: Number(deployment.chainId),
    chainPid: chain.process.pid,
    registry: deployment.address,
    depth: deployment.depth,
    devRoles: { publisher, issuer, operator },
    api: `${service.url}/v1`,
    docs: `${service.url}/docs`,
    metrics: `${service.url}/metrics`,
    data: dataDir,
    lists: `${service.url}/v1/lists`,
    listPublicKey: path.join(dataDir, "list-key.public.jwk"),
  };
  log.info(ready, "npm start is ready; Ctrl-C stops the service and the chain");
}

main().catch((error: unknown) => {
  const refused = error instanceof StartupError;
  console.error(`npm start: ${refused ? error.message : `failed: ${(error as Error).message}`}`);
  process.exit(refused ? 2 : 1);
});
