/**
 * National scale, end to end: the real service (child process), Hardhat's node and this load
 * generator on the same 2 cores. Run: npm run bench:national [-- --quick | --credentials N]
 * [--chain anvil] [--audit] (52,000,000 by default; --quick: 2,000,000). docs/performance.md
 * records what it printed.
 *
 * 1. peers: raw keccak (hash-wasm; OpenSSL's SHA3-256 as the C rate of the same permutation: this
 *    Node's OpenSSL has no keccak-256), merkletreejs and OpenZeppelin's tree on the same leaves
 * 2. the chain's ceiling: anchors of one bulk submission's size sent alone, each waited for
 * 3. load: N credentials in signed 3,000-event submissions, 4 clients, bodies made on the fly;
 *    end to end (first sent to last anchored and served), as a ratio to the ceiling; lost-device
 *    locks reported one at a time while it runs
 * 4. the service's resident memory with N credentials
 * 5. proofs over HTTP (autocannon, 32 connections, random indexes)
 * 6. restart after a graceful stop (SIGTERM) and after a crash (SIGKILL, tree snapshot removed),
 *    each until the service answers as before
 * 7. the tree of N credentials (restored from the service's snapshot in this process): snapshot
 *    write and restore, and a batch of 100,000 random updates (a wave of lost-phone locks) prepared
 *    and committed as the anchorer does, with the worker thread
 * 8. with --audit: the service stopped, `mobile-id audit` of the whole history from the node, as its
 *    own process (seconds, events/s, peak RSS), and the node's own resident memory
 */
import { createHash } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import { id } from "ethers";
import { blankEvent, Channel, EventKind, Hasher, type Hex, type RegistryDomain, type StatusEvent } from "../registry-service/src/core";
import { ParallelHasher } from "../registry-service/src/accel";
import { readTreeSnapshot, writeTreeSnapshot } from "../registry-service/src/anchoring";
import { devAccount, type ChainKind } from "../scripts/embedded-chain";
import { peers, rawKeccak } from "./core";
import {
  benchPhone,
  chainCeiling,
  fmt,
  issuanceBatchBytes,
  measured,
  median,
  post,
  rng,
  signer,
  startServiceStack,
  statusOf,
  table,
  time,
} from "./support";

const args = process.argv.slice(2);
const QUICK = args.includes("--quick");
const CREDENTIALS = Number(args[args.indexOf("--credentials") + 1] || 0) || (QUICK ? 2_000_000 : 52_000_000);
const CHAIN = (args.includes("--chain") ? args[args.indexOf("--chain") + 1] : "hardhat") as ChainKind;
const AUDIT = args.includes("--audit");
const BULK = 3_000;
const SUBMISSIONS = Math.ceil(CREDENTIALS / BULK);
const CLIENTS = 4;
const LOCKS = 30;
/** 32 distinct, non-zero bytes per (tag, n) as hex, cheaply: the generator must not be what limits the load */
const fake = (tag: "c" | "d", n: number) => `0x${tag}${n.toString(16).padStart(63, "0")}` as Hex;
/** the first LOCKS credentials are phones with real keys (a lock carries the phone's grant) */
const deviceOf = (n: number) => (n < LOCKS ? benchPhone(n).hash : fake("d", n));
const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))];
const residentMiB = async (url: string) =>
  Number(/^process_resident_memory_bytes (\d+)/m.exec(await (await fetch(`${url}/metrics`)).text())![1]) / 2 ** 20;

/** The raw keccak peers, with OpenSSL's C rate of the same permutation (SHA3-256, 65 bytes). */
function keccakPeers(hasher: Hasher): { hashWasm: number; openssl: number } {
  const hashWasm = rawKeccak(hasher);
  const input = Buffer.alloc(65);
  const n = 300_000;
  const { seconds } = time(() => {
    for (let i = 0; i < n; i++) input[1] = createHash("sha3-256").update(input).digest()[0];
  });
  console.log(
    `OpenSSL ${process.versions.openssl} through node:crypto, SHA3-256 (the same Keccak-f[1600] permutation with another padding byte; this OpenSSL has no keccak-256): ${fmt(n / seconds)} hashes/s, ${fmt(n / seconds / hashWasm, 2)}x hash-wasm (its per-call cost in Node included)\n`,
  );
  return { hashWasm, openssl: n / seconds };
}

/** Submission `s`: BULK issuances (fewer in the last), signed as the issuer. */
function bulkBody(issuer: ReturnType<typeof signer>, s: number): string {
  const count = Math.min(BULK, CREDENTIALS - s * BULK);
  const events = Array.from({ length: count }, (_, i): StatusEvent => {
    const n = s * BULK + i;
    return {
      ...blankEvent(EventKind.Issue),
      credentialCommitment: fake("c", n),
      deviceKeyHash: deviceOf(n),
      channel: Channel.ChipCard,
    };
  });
  return JSON.stringify(issuer(id(`national bulk ${s}`) as Hex, events));
}

/** Lost-device locks of credentials 0.. one at a time, each waited for until anchored and served, while `loading()`. */
async function locksUnderLoad(url: string, operator: ReturnType<typeof signer>, domain: RegistryDomain, loading: () => boolean) {
  const latencies: number[] = [];
  while (loading() && (await statusOf(url, 0)).anchored.record.status !== 1) await new Promise((r) => setTimeout(r, 200));
  for (let i = 0; i < LOCKS && loading(); i++) {
    await new Promise((r) => setTimeout(r, 500));
    const t0 = Date.now();
    const { applied } = await post(url, operator(id(`national lock ${i}`) as Hex, [benchPhone(i).lock(domain, devAccount(3).address)]));
    while ((await statusOf(url, applied[0].record.index)).anchored.record.status !== 2) await new Promise((r) => setTimeout(r, 20));
    latencies.push(Date.now() - t0);
  }
  return latencies;
}

/** Loads every credential with CLIENTS clients; resolves with the seconds to acknowledge all and to anchor the last. */
async function load(url: string, issuer: ReturnType<typeof signer>, operator: ReturnType<typeof signer>, domain: RegistryDomain) {
  let loading = true;
  const started = Date.now();
  const locks = locksUnderLoad(url, operator, domain, () => loading);
  let next = 0;
  let reported = started;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < SUBMISSIONS) {
        await post(url, bulkBody(issuer, next++), { waitWhenBusy: true });
        if (Date.now() - reported > 60_000) {
          reported = Date.now();
          console.error(`  ${fmt(next * BULK)} sent, ${fmt((next * BULK) / ((Date.now() - started) / 1000))} events/s so far`);
        }
      }
    }),
  );
  const acknowledged = (Date.now() - started) / 1000;
  while ((await statusOf(url, CREDENTIALS - 1)).anchored.record.status !== 1) await new Promise((r) => setTimeout(r, 50));
  const anchored = (Date.now() - started) / 1000;
  loading = false;
  return { acknowledged, anchored, locks: await locks };
}

/** Proofs of random indexes over HTTP. */
async function proofs(url: string) {
  const result = await autocannon({
    url,
    connections: 32,
    duration: QUICK ? 10 : 20,
    requests: [{ setupRequest: (request) => ({ ...request, path: `/v1/status/${Math.floor(Math.random() * CREDENTIALS)}` }) }],
  });
  return { rate: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, failed: result.errors + result.non2xx };
}

/** The service's tree restored from its snapshot here: write and restore times, and a 100k-random-update batch as the anchorer applies one. */
async function treeFigures(file: string, hasher: Hasher) {
  const parallel = await ParallelHasher.create();
  try {
    const restore = await (async () => {
      const t0 = process.hrtime.bigint();
      const snapshot = await readTreeSnapshot(file, hasher, parallel);
      return { snapshot: snapshot!, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
    })();
    const tree = restore.snapshot.tree;
    const again = `${file}.again`;
    const t0 = process.hrtime.bigint();
    await writeTreeSnapshot(again, restore.snapshot.batch, tree);
    const write = Number(process.hrtime.bigint() - t0) / 1e9;
    rmSync(again, { force: true });
    const random = rng(7);
    const updates = 100_000;
    const indexes = Array.from({ length: updates }, () => Math.floor(random() * tree.size));
    const leaves = new Uint8Array(updates * 32).map((_, i) => (i * 131 + 7) & 0xff || 1);
    const hashed = tree.hashCount;
    const batch = time(() => tree.prepareLeaves(indexes, leaves).commit());
    const hashes = tree.hashCount - hashed;
    return { size: tree.size, memory: tree.memoryBytes, restore: restore.seconds, write, batch: batch.seconds, hashes };
  } finally {
    await parallel.close();
  }
}

/** The service stopped (its memory freed), the whole history audited from the node by `mobile-id audit` as its own process. */
async function auditFigures(stack: Awaited<ReturnType<typeof startServiceStack>>) {
  await stack.service.stop();
  const nodeMiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${stack.chain.process.pid}/status`, "utf8"))![1]) / 1024;
  const mobileId = path.join(__dirname, "..", "scripts", "mobile-id.js");
  const run = await measured([
    mobileId,
    "audit",
    "--rpc",
    stack.chain.rpcUrl,
    "--registry",
    stack.deployment.address,
    "--json",
    "--no-progress",
  ]);
  const report = JSON.parse(run.stdout) as { ok: boolean; findings: unknown[] };
  return { ...run, ok: report.ok, findings: JSON.stringify(report.findings).slice(0, 2000), nodeMiB };
}

async function main() {
  const hasher = await Hasher.create();
  console.log(
    `# National benchmark (${os.cpus().length} cores, ${fmt(os.totalmem() / 2 ** 30)} GiB, node ${process.version}): ${fmt(CREDENTIALS)} credentials\n`,
  );
  const keccak = keccakPeers(hasher);
  peers(hasher);
  const stack = await startServiceStack("national", { BATCH_INTERVAL_MS: "1000" }, CHAIN);
  try {
    const { domain } = stack;
    const issuer = signer(hasher, devAccount(2), domain);
    const operator = signer(hasher, devAccount(3), domain);
    const ceiling = await chainCeiling(stack.chain.rpcUrl, stack.dir, BULK, 20);
    console.log(
      `## The chain's ceiling: 20 anchors of ${fmt(BULK)} issuances (${fmt(issuanceBatchBytes(BULK))} bytes) sent alone, each waited for: ${fmt(ceiling)} events/s\n`,
    );
    const loaded = await load(stack.service.url, issuer, operator, domain);
    const endToEnd = CREDENTIALS / loaded.anchored;
    const memory = await residentMiB(stack.service.url);
    const served = await proofs(stack.service.url);
    const before = await statusOf(stack.service.url, CREDENTIALS - 1);
    let t0 = Date.now();
    await stack.restart();
    const graceful = (Date.now() - t0) / 1000;
    if (JSON.stringify(await statusOf(stack.service.url, CREDENTIALS - 1)) !== JSON.stringify(before))
      throw new Error("answers differ after the restart");
    const afterGraceful = await residentMiB(stack.service.url);
    const snapshotFile = path.join(stack.env.DATA_DIR, "tree.snapshot");
    const tree = await treeFigures(snapshotFile, hasher);
    t0 = Date.now();
    await stack.crashRestart(() => rmSync(snapshotFile, { force: true }));
    const crash = (Date.now() - t0) / 1000;
    if (JSON.stringify(await statusOf(stack.service.url, CREDENTIALS - 1)) !== JSON.stringify(before))
      throw new Error("answers differ after the crash");
    const afterCrash = await residentMiB(stack.service.url);
    const audit = AUDIT ? await auditFigures(stack) : undefined;
    console.log("## Results\n");
    table(
      ["figure", "measured", "target", "peer in the same run"],
      [
        ["credentials loaded, anchored and served", fmt(CREDENTIALS), "52,000,000", ""],
        [
          "end to end (4 clients; first sent to last anchored)",
          `${fmt(endToEnd)} events/s (${fmt(loaded.anchored, 1)} s; all acknowledged at ${fmt(loaded.acknowledged, 1)} s)`,
          "≥ 30,000 events/s",
          `chain ceiling ${fmt(ceiling)} events/s: ratio ${fmt(endToEnd / ceiling, 2)}`,
        ],
        [
          "lost-device lock anchored and served, under that load",
          `n ${loaded.locks.length}, p50 ${median(loaded.locks)} ms, p99 ${percentile(loaded.locks, 99)} ms`,
          "interval + 0.2 s = 1,200 ms (p99)",
          "",
        ],
        [
          "service resident memory, loaded",
          `${fmt(memory)} MiB (${fmt((memory * 2 ** 20) / CREDENTIALS)} B per credential)`,
          "≤ 12 GB at 52M",
          "",
        ],
        [
          "proofs over HTTP (32 connections)",
          `${fmt(served.rate)} req/s, p50 ${served.p50} ms, p99 ${served.p99} ms, ${served.failed} failed`,
          "≥ 25,000/s, p99 ≤ 5 ms",
          "",
        ],
        ["restart after SIGTERM, until it answers as before", `${fmt(graceful, 1)} s (then ${fmt(afterGraceful)} MiB)`, "≤ 30 s", ""],
        ["restart after SIGKILL, no tree snapshot, until it answers", `${fmt(crash, 1)} s (then ${fmt(afterCrash)} MiB)`, "≤ 120 s", ""],
        [
          "tree snapshot: write / read and restore",
          `${fmt(tree.write, 2)} s / ${fmt(tree.restore, 2)} s (${fmt(tree.memory / 2 ** 20)} MiB, ${fmt(tree.memory / tree.size)} B per slot)`,
          "",
          "",
        ],
        [
          "100,000 random updates on that tree (prepared and committed, + worker)",
          `${fmt(tree.batch, 3)} s`,
          "≤ 1 s",
          `${fmt(tree.hashes)} node hashes: ${fmt(tree.hashes / tree.batch / keccak.hashWasm, 2)}x the raw keccak rate of one core (OpenSSL's: ${fmt(keccak.openssl / keccak.hashWasm, 2)}x)`,
        ],
        ...(audit
          ? [
              [
                "audit of the whole history from the node (`mobile-id audit`, own process, the service stopped)",
                `${fmt(audit.seconds, 1)} s, ${fmt(CREDENTIALS / audit.seconds)} events/s, peak RSS ${fmt(audit.maxRssKb / 1024)} MiB, ${audit.ok ? "passed" : "FAILED"}`,
                "≥ 150,000 events/s",
                `${fmt(CREDENTIALS / audit.seconds / keccak.hashWasm, 3)} events per keccak call of one core; node RSS ${fmt(audit.nodeMiB)} MiB`,
              ],
            ]
          : []),
      ],
    );
    if (audit && !audit.ok) throw new Error(`the audit of the loaded history failed: ${audit.findings}`);
  } catch (error) {
    const log = path.join(os.tmpdir(), "bench-national-service.log");
    writeFileSync(log, stack.service.output());
    console.error(`the service's log: ${log}`);
    throw error;
  } finally {
    await stack.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
