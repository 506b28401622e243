/**
 * npm run bench:audit [-- --events N --batch N --locks N --chain anvil|hardhat]: the auditor's rate
 * over a history of N events (default 300,000; the headline run: --events 10000000) anchored on a
 * real chain node (anvil by default): batches of `--batch` events (default 3,000), each bulk issuance
 * in one signed submission plus `--locks` lost-phone locks (default 30, 1 %) of phones issued in the
 * batch before, each with its phone's grant, in an operator's submission.
 *
 * Measured, each in a process of its own so that its peak resident memory is its own:
 * - the whole audit: `mobile-id audit --json` against the node (logs, calldata, roles, replay);
 * - the replay alone: the same history read from the node into memory first, then replayed.
 * Peers in the same run: hash-wasm's keccak on one core, libsecp256k1's key recovery and OpenSSL's
 * P-256 check (a lock's grant), each per second.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { JsonRpcProvider } from "ethers";
import { bytesToHex, Hasher, type Hex } from "../registry-service/src/core";
import { REGISTRY_INTERFACE } from "../registry-service/src/chain/read";
import { anchorCalldata, signEip1559 } from "../registry-service/src/chain/write";
import { deployDevRegistry, devAccount, startEmbeddedChain, type ChainKind } from "../scripts/embedded-chain";
import { fmt, measured, type ChildFigures } from "./support";
import { HistoryBuilder } from "./auditHistory";
import { measurePeers, type Peers } from "./auditPeers";

const ROOT = path.join(__dirname, "..");

interface Options {
  events: number;
  batch: number;
  locks: number;
  chain: ChainKind;
  /** build the history, print where it is and keep the node running (to audit it by hand, or profile) */
  keep: boolean;
}

function options(): Options {
  const args = process.argv.slice(2);
  const value = (name: string, fallback: number) => {
    const at = args.indexOf(`--${name}`);
    const parsed = at < 0 ? fallback : Number(args[at + 1]);
    if (!Number.isSafeInteger(parsed) || parsed < 0) throw new Error(`--${name} takes a whole number, got ${args[at + 1]}`);
    return parsed;
  };
  const chainAt = args.indexOf("--chain");
  const chain = (chainAt < 0 ? "anvil" : args[chainAt + 1]) as ChainKind;
  if (chain !== "anvil" && chain !== "hardhat") throw new Error(`--chain takes anvil or hardhat, got ${chain}`);
  const chosen = {
    events: value("events", 300_000),
    batch: value("batch", 3_000),
    locks: value("locks", 30),
    chain,
    keep: args.includes("--keep"),
  };
  if (chosen.locks >= chosen.batch) throw new Error("--locks must be fewer than --batch");
  return chosen;
}

/** Anchors the history on the node, a few transactions in flight (one sender, nonce order), signed in bytes as the service signs. */
async function buildHistory(rpcUrl: string, address: string, chainId: bigint, chosen: Options) {
  const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, batchMaxCount: 1 });
  const hasher = await Hasher.create();
  const publisher = devAccount(1);
  const builder = new HistoryBuilder(hasher, { chainId, verifyingContract: address }, { issuer: devAccount(2), operator: devAccount(3) });
  const selector = REGISTRY_INTERFACE.getFunction("anchor")!.selector as Hex;
  let nonce = await provider.getTransactionCount(publisher.address);
  let intakeBlock = await provider.getBlockNumber();
  const inFlight: string[] = [];
  const deadline = Math.floor(Date.now() / 1000) + 24 * 3600;
  const fees = { maxFeePerGas: 100_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n, gasLimit: 16_000_000n, value: 0n };
  const started = performance.now();
  while (builder.events < chosen.events) {
    const size = Math.min(chosen.batch, chosen.events - builder.events);
    const built = builder.next(size, Math.min(chosen.locks, size - 1), intakeBlock, deadline);
    const data = anchorCalldata(selector, { ...built, eventData: bytesToHex(built.eventData) });
    const { raw } = signEip1559(hasher, publisher.privateKey as Hex, { chainId, nonce: nonce++, to: address as Hex, data, ...fees });
    inFlight.push(await provider.send("eth_sendRawTransaction", [bytesToHex(raw)]));
    if (inFlight.length >= 4) intakeBlock = await mined(provider, inFlight.shift()!);
    if (built.batch % 20 === 0)
      process.stderr.write(
        `\r  batch ${built.batch}: ${fmt(builder.events)} events, ${fmt(builder.events / ((performance.now() - started) / 1000))} events/s`,
      );
  }
  for (const hash of inFlight) await mined(provider, hash);
  process.stderr.write("\n");
  provider.destroy();
  return { batches: builder.batch, events: builder.events, seconds: (performance.now() - started) / 1000 };
}

/** Waits for a transaction's receipt (polled every 10 ms: a block event could wait long); its block. */
async function mined(provider: JsonRpcProvider, hash: string): Promise<number> {
  for (;;) {
    const receipt = await provider.getTransactionReceipt(hash);
    if (receipt) {
      if (receipt.status !== 1) throw new Error(`anchor ${hash} reverted`);
      return receipt.blockNumber;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function main() {
  const chosen = options();
  const dir = mkdtempSync(path.join(os.tmpdir(), "bench-audit-"));
  const chain = await startEmbeddedChain(0, 60_000, chosen.chain);
  try {
    const deployment = deployDevRegistry(chain.rpcUrl, path.join(dir, "deployment.json"), 32);
    console.log(
      `chain: ${chosen.chain}; history: ${fmt(chosen.events)} events in batches of ${fmt(chosen.batch)} with ${chosen.locks} locks each`,
    );
    const built = await buildHistory(chain.rpcUrl, deployment.address, BigInt(deployment.chainId), chosen);
    console.log(
      `built: ${fmt(built.batches)} anchors, ${fmt(built.events)} events in ${built.seconds.toFixed(1)} s (${fmt(built.events / built.seconds)} events/s)\n`,
    );
    const target = ["--rpc", chain.rpcUrl, "--registry", deployment.address];
    if (chosen.keep) return await keepRunning(target);
    const peersBefore = await measurePeers();
    const audit = await measured([path.join(ROOT, "scripts", "mobile-id.js"), "audit", ...target, "--json", "--no-progress"]);
    const report = JSON.parse(audit.stdout) as { ok: boolean; events: number; batches: number; divergence: { message: string } | null };
    if (!report.ok) throw new Error(`the audit failed: ${report.divergence?.message}`);
    const replay = await measured(["-r", "ts-node/register", path.join(__dirname, "auditReplay.ts"), ...target]);
    const alone = JSON.parse(replay.stdout) as { events: number; readSeconds: number; replaySeconds: number };
    if (alone.events !== report.events) throw new Error(`the replay alone replayed ${alone.events} events, the audit ${report.events}`);
    const peersAfter = await measurePeers();
    printResults(report, audit, { ...alone, ...replay }, [peersBefore, peersAfter]);
  } finally {
    await chain.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** --keep: the node goes on serving the history until this process is stopped. */
async function keepRunning(target: string[]): Promise<never> {
  console.log(`the node keeps running (Ctrl-C stops it): npm run mobile-id -- audit ${target.join(" ")}`);
  return new Promise<never>(() => undefined);
}

function printResults(
  report: { events: number; batches: number },
  audit: ChildFigures,
  alone: ChildFigures & { readSeconds: number; replaySeconds: number },
  peers: Peers[],
) {
  const keccak = Math.min(...peers.map((p) => p.keccakPerSecond));
  const recover = Math.min(...peers.map((p) => p.recoveriesPerSecond));
  const mib = (kb: number) => `${fmt(kb / 1024)} MiB`;
  const rate = (seconds: number) => report.events / seconds;
  console.log(
    `| audit of ${fmt(report.events)} events (${fmt(report.batches)} anchors) | seconds | events/s | peak RSS | CPU s | events/s ÷ keccak/s | events/s ÷ recoveries/s |`,
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|");
  const row = (what: string, seconds: number, rss: string, cpu: string) =>
    console.log(
      `| ${what} | ${seconds.toFixed(1)} | ${fmt(rate(seconds))} | ${rss} | ${cpu} | ${(rate(seconds) / keccak).toFixed(3)} | ${(rate(seconds) / recover).toFixed(2)} |`,
    );
  row(
    "**whole audit** (`mobile-id audit`: logs, calldata, roles, replay)",
    audit.seconds,
    mib(audit.maxRssKb),
    audit.cpuSeconds.toFixed(1),
  );
  row("reading the history from the node into memory (replay-alone process)", alone.readSeconds, "", "");
  row("**replay alone** (signatures, grants, roles, state machine, event and status trees)", alone.replaySeconds, mib(alone.maxRssKb), "");
  console.log("");
  for (const [i, p] of peers.entries())
    console.log(
      `peers ${i === 0 ? "before" : "after"}: keccak (hash-wasm, one core, 64-byte inputs) ${fmt(p.keccakPerSecond)}/s; libsecp256k1 recovery ${fmt(p.recoveriesPerSecond)}/s; OpenSSL P-256 verify (a grant) ${fmt(p.p256PerSecond)}/s`,
    );
  const national = 52_000_000 / rate(audit.seconds);
  console.log(`\n52M histories at the whole audit's rate: ${fmt(national)} s (${(national / 60).toFixed(1)} min)`);
}

main().catch((error) => {
  console.error(`bench:audit failed: ${(error as Error).message.slice(0, 500)}`);
  process.exit(1);
});
