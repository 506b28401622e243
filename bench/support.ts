/** Small helpers shared by the benchmarks: timing, medians, table printing, fast signing. */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { p256 } from "@noble/curves/p256";
import { id, Wallet, type HDNodeWallet } from "ethers";
import { StatusRegistry__factory } from "../typechain-types";
import {
  BATCH_HEADER_LENGTH,
  blankEvent,
  bytesToHex,
  Channel,
  deadlineIn,
  encodeBatchData,
  encodedEventLength,
  Hasher,
  SUBMISSION_HEADER_LENGTH,
  deviceKeyHash,
  EventKind,
  hexToBytes,
  signLockGrant,
  submissionDigest,
  type Hex,
  type RegistryDomain,
  type StatusEvent,
  type Submission,
} from "../registry-service/src/core";
import { deployDevRegistry, devAccount, startEmbeddedChain, type ChainKind } from "../scripts/embedded-chain";
import { startServiceProcess } from "../scripts/service-process";
import { connectRpc } from "../registry-service/src/chain/read";
import { EthersAnchorChain, readChainRules } from "../registry-service/src/chain/write";

/** A benchmark's phone with a real P-256 key: its device key hash, and its operator's lock with the phone's grant (docs/spec.md 4.6). */
export function benchPhone(label: string | number) {
  const key = hexToBytes(id(`bench phone ${label}`));
  const hash = deviceKeyHash(p256.getPublicKey(key, true));
  const lock = (domain: RegistryDomain, operator: string): StatusEvent => ({
    ...blankEvent(EventKind.LockDevice),
    deviceKeyHash: hash,
    grant: signLockGrant(key, domain, operator, 4_000_000_000),
  });
  return { hash, lock };
}

/**
 * Posts one submission to the service; anything but 202 throws, except that with `waitWhenBusy` a
 * 503 is retried after its Retry-After, as a bulk client does (pushback, a chain read late).
 */
export async function post(url: string, body: unknown, { waitWhenBusy = false } = {}) {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  for (;;) {
    const response = await fetch(`${url}/v1/submissions`, { method: "POST", headers: { "content-type": "application/json" }, body: text });
    if (response.status === 202) return response.json() as Promise<{ batch: number; applied: { record: { index: number } }[] }>;
    const refusal = await response.text();
    if (response.status !== 503 || !waitWhenBusy) throw new Error(`HTTP ${response.status}: ${refusal}`);
    await new Promise((resolve) => setTimeout(resolve, Number(response.headers.get("retry-after") ?? 1) * 1000));
  }
}

/** The service's status answer for one index (what the benchmarks wait on). */
export async function statusOf(url: string, index: number) {
  return (await (await fetch(`${url}/v1/status/${index}`)).json()) as {
    anchored: { record: { status: number }; anchor: { batch: number; statusRoot: string; transactionHash: string | null } };
  };
}

export function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

export function time<T>(fn: () => T): { value: T; seconds: number } {
  const start = process.hrtime.bigint();
  const value = fn();
  return { value, seconds: seconds(start) };
}

export async function timeAsync<T>(fn: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const start = process.hrtime.bigint();
  const value = await fn();
  return { value, seconds: seconds(start) };
}

/** The p-th percentile of `values` (nearest rank). */
export const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))];

/** An ISSUE of credential `n` (commitment "c n") to `device`, as the benchmarks load the service. */
export const issueTo = (n: number, device: Hex): StatusEvent => ({
  ...blankEvent(EventKind.Issue),
  credentialCommitment: id(`c ${n}`) as Hex,
  deviceKeyHash: device,
  channel: Channel.ChipCard,
});

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Median of `runs` timings of `fn` (seconds). */
export function medianSeconds(runs: number, fn: (run: number) => void): number {
  return median(Array.from({ length: runs }, (_, run) => time(() => fn(run)).seconds));
}

export const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
export const mib = (bytes: number) => `${fmt(bytes / 2 ** 20)} MiB`;

export function table(headers: string[], rows: (string | number)[][]): void {
  console.log(`| ${headers.join(" | ")} |`);
  console.log(`|${headers.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`);
  for (const row of rows) console.log(`| ${row.join(" | ")} |`);
  console.log("");
}

/** Deterministic pseudo-random numbers (xorshift32), so runs are comparable. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** Signs with the fast digest (the same bytes ethers would sign, see the EIP-712 tests). */
export function signer(hasher: Hasher, wallet: HDNodeWallet, domain: RegistryDomain) {
  return (nonce: Hex, events: StatusEvent[]): Submission => {
    const deadline = deadlineIn(3600);
    return {
      nonce,
      deadline,
      events,
      signature: wallet.signingKey.sign(submissionDigest(domain, { nonce, deadline, events }, hasher)).serialized as Hex,
    };
  };
}

/** The dev issuer's and operator's fast signers (accounts 2 and 3) for `domain`. */
export async function devSigners(domain: RegistryDomain) {
  const hasher = await Hasher.create();
  return { issuer: signer(hasher, devAccount(2), domain), operator: signer(hasher, devAccount(3), domain) };
}

/** Phones 0..count-1 with real keys (a lock carries the phone's grant), issued in one submission: what the lock benchmarks lock. */
export function issuePhones(url: string, issuer: ReturnType<typeof signer>, count: number) {
  return post(
    url,
    issuer(
      id("phones") as Hex,
      Array.from({ length: count }, (_, n) => issueTo(n, benchPhone(n).hash)),
    ),
  );
}

/**
 * A chain node (Hardhat's unless `kind` says anvil), a fresh registry with the dev roles and the
 * real service as a child process, all on loopback, for benchmarks that load the service from
 * outside; `stop()` tears it all down.
 */
export async function startServiceStack(
  name: string,
  extraEnv: Record<string, string> = {},
  kind: ChainKind = "hardhat",
  chainOptions: { blockTime?: number } = {},
) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `bench-${name}-`));
  // ephemeral ports: a benchmark may share the machine with other work
  const chain = await startEmbeddedChain(0, 60_000, kind, chainOptions);
  try {
    const deployment = deployDevRegistry(chain.rpcUrl, path.join(dir, "deployment.json"), 32);
    const env = {
      RPC_URL: chain.rpcUrl,
      REGISTRY_ADDRESS: deployment.address,
      PUBLISHER_KEY: devAccount(1).privateKey,
      DATA_DIR: path.join(dir, "service"),
      PORT: "0",
      ...extraEnv,
    };
    const stack = {
      dir,
      env,
      chain,
      deployment,
      domain: { chainId: BigInt(deployment.chainId), verifyingContract: deployment.address },
      service: await startServiceProcess(env),
      /** Stops the service (SIGTERM) and starts it on the same data; resolves once it listens again. */
      async restart() {
        await stack.service.stop();
        stack.service = await startServiceProcess(env);
      },
      /** Kills the service (SIGKILL: no snapshot written, as a power cut) and starts it on the same data. */
      async crashRestart(beforeStart: () => void = () => undefined) {
        stack.service.child.kill("SIGKILL");
        await stack.service.exited;
        beforeStart();
        stack.service = await startServiceProcess(env);
      },
      async stop() {
        await stack.service.stop();
        await chain.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
    return stack;
  } catch (error) {
    await chain.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Bytes of the event data of one anchor carrying `issuances` issuances in one submission (docs/spec.md 5.1). */
export const issuanceBatchBytes = (issuances: number) =>
  BATCH_HEADER_LENGTH + SUBMISSION_HEADER_LENGTH + issuances * encodedEventLength(EventKind.Issue);

/**
 * The chain's own ceiling for anchors: `anchors` anchor transactions of `issuances` issuances each
 * (real-looking event data: hashes), sent alone to a second registry on the same node by another
 * publisher key, each waited for before the next, through the service's own send path (raw bytes,
 * computed gas). Returns issuance events per second. Run it while the service is idle.
 */
export async function chainCeiling(rpcUrl: string, dir: string, issuances: number, anchors: number): Promise<number> {
  const deployment = deployDevRegistry(rpcUrl, path.join(dir, "ceiling.json"), 32, 6);
  const provider = await connectRpc(rpcUrl, 60_000);
  try {
    const key = devAccount(6);
    const hasher = await Hasher.create();
    const registry = StatusRegistry__factory.connect(deployment.address, new Wallet(key.privateKey, provider));
    const chain = new EthersAnchorChain(registry, 1, undefined, hasher, undefined, await readChainRules(provider, key.address));
    const event = (n: number) => ({
      ...blankEvent(EventKind.Issue),
      credentialCommitment: id(`ceiling c ${n}`) as Hex,
      deviceKeyHash: id(`ceiling d ${n}`) as Hex,
      channel: 1,
    });
    const submission = { nonce: id("ceiling") as Hex, deadline: 0, intakeBlock: 0, signature: `0x${"1b".repeat(65)}` as Hex };
    const data = bytesToHex(encodeBatchData([{ ...submission, events: Array.from({ length: issuances }, (_, n) => event(n)) }]));
    let previousRoot = (await chain.latestBatch()).statusRoot;
    const started = process.hrtime.bigint();
    for (let batch = 1; batch <= anchors; batch++) {
      const statusRoot = id(`ceiling root ${batch}`) as Hex;
      await chain.anchor({ batch, previousRoot, statusRoot, eventRoot: statusRoot, eventCount: issuances, eventData: data });
      previousRoot = statusRoot;
    }
    return (anchors * issuances) / seconds(started);
  } finally {
    provider.destroy();
  }
}

export interface ChildFigures {
  seconds: number;
  maxRssKb: number;
  cpuSeconds: number;
}

/** Runs a node process with the peak-memory probe preloaded; its stdout, and what the probe reported. */
export async function measured(args: string[]): Promise<{ stdout: string } & ChildFigures> {
  const started = performance.now();
  const child = await promisify(execFile)(
    process.execPath,
    ["--max-old-space-size=8192", "-r", path.join(__dirname, "peakRss.js"), ...args],
    {
      cwd: path.join(__dirname, ".."),
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "1" },
      maxBuffer: 1 << 28,
    },
  );
  const seconds = (performance.now() - started) / 1000;
  const probe = JSON.parse(/PEAK_RSS (.*)/.exec(child.stderr)![1]) as { maxRssKb: number; cpuSeconds: number };
  return { stdout: child.stdout, seconds, ...probe };
}
