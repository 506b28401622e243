import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

const ROOT = path.join(__dirname, "..");
export const DEV_MNEMONIC = "test test test test test test test test test test test junk";

/** Path of the anvil binary shipped by the npm package (an optional dependency, Linux x64). */
export function anvilBinary(): string {
  return path.join(path.dirname(require.resolve("@foundry-rs/anvil-linux-amd64/package.json")), "bin", "anvil");
}

export interface EmbeddedChain {
  rpcUrl: string;
  process: ChildProcess;
  stop(): Promise<void>;
  /** Calls `listener` (with the exit code or signal) if the node exits before `stop()` is called. */
  onDeath(listener: (how: string) => void): void;
}

/**
 * "consortium": anvil under the rules of the Besu QBFT network in deploy/besu-qbft (its genesis's
 * block gas limit and block period, Osaka rules: the EIP-7623 calldata floor and the EIP-7825
 * per-transaction gas cap, zero base fee), blocks mined on an interval instead of per transaction.
 */
export type ChainKind = "hardhat" | "anvil" | "consortium";

/** The Besu network's genesis (deploy/besu-qbft/genesis.json), whose rules the consortium profile takes. */
export const CONSORTIUM_GENESIS = path.join(ROOT, "deploy", "besu-qbft", "genesis.json");

/** The block gas limit and block period of the consortium's genesis. */
export function consortiumRules(): { gasLimit: number; blockPeriodSeconds: number } {
  const { readFileSync } = require("node:fs") as typeof import("node:fs");
  const genesis = JSON.parse(readFileSync(CONSORTIUM_GENESIS, "utf8")) as {
    gasLimit: string;
    config: { qbft: { blockperiodseconds: number } };
  };
  return { gasLimit: Number(BigInt(genesis.gasLimit)), blockPeriodSeconds: genesis.config.qbft.blockperiodseconds };
}

/** The node's command line; `blockTime` (seconds) overrides the consortium genesis's block period. */
function nodeCommand(kind: ChainKind, port: number, blockTime?: number): [string, string[]] {
  if (kind === "hardhat")
    return [process.execPath, [require.resolve("hardhat/internal/cli/cli"), "node", "--hostname", "127.0.0.1", "--port", String(port)]];
  const anvil = ["--host", "127.0.0.1", "--port", String(port), "--mnemonic", DEV_MNEMONIC];
  if (kind === "anvil") return [anvilBinary(), anvil];
  const rules = consortiumRules();
  const consortium = [
    "--hardfork",
    "osaka",
    "--tx-gas-limit",
    "--base-fee",
    "0",
    "--gas-price",
    "0",
    "--gas-limit",
    String(rules.gasLimit),
  ];
  return [anvilBinary(), [...anvil, ...consortium, "--block-time", String(blockTime ?? rules.blockPeriodSeconds)]];
}

/**
 * Starts an EVM node as a child process, bound to loopback only (Hardhat's node binds every
 * interface unless told otherwise), and resolves once it answers JSON-RPC. "anvil" is Foundry's
 * independent implementation (npm: @foundry-rs/anvil-linux-amd64), with the same dev accounts.
 * A taken port fails with an error whose `code` is EADDRINUSE. `ownProcessGroup`: Ctrl-C on the
 * terminal does not reach the node, so its owner stops it in order (npm start: service first).
 */
export async function startEmbeddedChain(
  port = 8545,
  timeoutMs = 60_000,
  kind: ChainKind = "hardhat",
  options: { ownProcessGroup?: boolean; blockTime?: number } = {},
): Promise<EmbeddedChain> {
  // port 0: the system picks a free port and the node prints it (tests share machines)
  const [command, args] = nodeCommand(kind, port, options.blockTime);
  const child = spawn(command, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], detached: options.ownProcessGroup });
  let output = "";
  let listening: string | undefined;
  const read = (chunk: Buffer) => {
    output = (output + chunk).slice(-4000);
    // Hardhat: "JSON-RPC server at http://127.0.0.1:PORT/"; anvil: "Listening on 127.0.0.1:PORT"
    listening ??= /(?:server at http:\/\/|Listening on )127\.0\.0\.1:(\d+)/.exec(output)?.[1];
  };
  child.stdout!.on("data", read);
  child.stderr!.on("data", read);

  let stopping = false;
  const stop = () =>
    new Promise<void>((resolve) => {
      stopping = true;
      // a child killed by a signal has no exit code, only a signal code: either means it is gone
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  const onDeath = (listener: (how: string) => void) =>
    child.once("exit", (code, signal) => {
      if (!stopping) listener(signal ?? `exit code ${code}`);
    });

  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (child.exitCode !== null) throw exitedEarly(kind, child.exitCode, output);
      // only the node this started: another one already listening on the port is never attached to
      const rpcUrl = listening && `http://127.0.0.1:${listening}`;
      if (rpcUrl && (await answers(rpcUrl))) return { rpcUrl, process: child, stop, onDeath };
      if (Date.now() > deadline) throw new Error(`${kind} node did not answer on port ${port} within ${timeoutMs} ms: ${gist(output)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The line of a node's output that says what went wrong: its first error, else its last line. */
function gist(output: string): string {
  const lines = output.trim().split("\n");
  return lines.find((line) => /error/i.test(line)) ?? lines[lines.length - 1];
}

/** The node's exit before it listened, as an error; a taken port has the code EADDRINUSE, as Node's own error would. */
function exitedEarly(kind: ChainKind, exitCode: number, output: string): Error {
  const error = new Error(`${kind} node exited (${exitCode}): ${gist(output)}`);
  // Hardhat: "Error: listen EADDRINUSE: address already in use"; anvil: "Address already in use"
  return /EADDRINUSE|address already in use/i.test(output) ? Object.assign(error, { code: "EADDRINUSE" }) : error;
}

/** True once the node answers eth_chainId (plain fetch: ethers would log retry noise meanwhile). */
async function answers(rpcUrl: string): Promise<boolean> {
  // required lazily, as ethers is below, so that importing this module stays cheap
  const { rpcChainId } = require("../registry-service/src/chain/read") as typeof import("../registry-service/src/chain/read");
  return rpcChainId(rpcUrl).then(
    () => true,
    () => false,
  );
}

/** Hardhat's (and anvil's) well-known development accounts: deployer 0, publisher 1, issuer 2, operator 3. */
export function devAccount(n: number) {
  // required lazily so that this module stays cheap for callers that only start the chain
  const { HDNodeWallet } = require("ethers") as typeof import("ethers");
  return HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, `m/44'/60'/0'/0/${n}`);
}

/**
 * Runs the deploy-registry task against `rpcUrl` (the node's unlocked account 0 deploys), granting
 * the dev roles, and returns the deployment record it wrote to `out`.
 */
export function deployDevRegistry(rpcUrl: string, out: string, depth = 32, publisherAccount = 1) {
  const { spawnSync } = require("node:child_process") as typeof import("node:child_process");
  const { readFileSync } = require("node:fs") as typeof import("node:fs");
  const [publisher, issuer, operator] = [publisherAccount, 2, 3].map((n) => devAccount(n).address);
  const args = [
    "deploy-registry",
    "--network",
    "chain",
    "--depth",
    String(depth),
    "--publishers",
    publisher,
    "--issuers",
    issuer,
    "--operators",
    operator,
    "--out",
    out,
    "--quiet",
  ];
  const run = spawnSync(process.execPath, [require.resolve("hardhat/internal/cli/cli"), ...args], {
    cwd: ROOT,
    env: { ...process.env, RPC_URL: rpcUrl },
    encoding: "utf8",
  });
  if (run.status !== 0) throw new Error(`deploy-registry failed: ${(run.stderr || run.stdout).trim().split("\n").pop()}`);
  return JSON.parse(readFileSync(out, "utf8")) as { address: string; chainId: string; depth: number };
}
