/**
 * The registry on the consortium profile (anvil under the Besu QBFT network's rules: Osaka with its
 * per-transaction gas cap, zero base fee, the genesis's block gas limit, interval blocks), with the
 * service, the chain and the load generator on the same machine.
 * Run: npm run bench:consortium [-- --quick]   (docs/performance.md and docs/gas.md record figures)
 *
 * For 1 s and 2 s blocks:
 * 1. lost-phone lock: report -> anchored and served, one at a time (p50, p99), against the goal of
 *    one block time + the batch interval + 0.3 s
 * 2. sustained anchoring: bulk issuance posted as fast as the service takes it, until all of it is
 *    anchored (events/s), against the ceiling of the anchors one block takes (as many as are in
 *    flight, ANCHORS_IN_FLIGHT's default 4, and as the block gas limit holds)
 * 3. gas per event of the anchors those made, read from their receipts
 */
import { id, JsonRpcProvider } from "ethers";
import type { Hex, RegistryDomain } from "../registry-service/src/core";
import { consortiumRules, devAccount } from "../scripts/embedded-chain";
import {
  benchPhone,
  devSigners,
  fmt,
  issuePhones,
  issueTo,
  median,
  percentile,
  post,
  signer,
  startServiceStack,
  statusOf,
  table,
} from "./support";

const QUICK = process.argv.includes("--quick");
const BULK = 3_000;
const SUBMISSIONS = QUICK ? 4 : 10;
const LOCKS = QUICK ? 10 : 20;
const BATCH_INTERVAL_MS = 1000;
/** the service's default ANCHORS_IN_FLIGHT: anchors sent before the first of them is mined */
const IN_FLIGHT = 4;

const h = (label: string) => id(label) as Hex;

/** Waits until index `index`'s anchored record has `status`; polls every 20 ms. */
async function anchoredAs(url: string, index: number, status: number) {
  for (;;) {
    const answer = await statusOf(url, index);
    if (answer.anchored.record.status === status) return answer;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Gas used per applied event by the anchors of batches `from`..`to`, from their receipts. */
async function gasPerEvent(url: string, rpcUrl: string, from: number, to: number) {
  const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true });
  let gas = 0n;
  let events = 0;
  for (let batch = from; batch <= to; batch++) {
    const { batch: summary } = (await (await fetch(`${url}/v1/batches/${batch}`)).json()) as {
      batch: { transactionHash: string; eventCount: number };
    };
    gas += (await provider.getTransactionReceipt(summary.transactionHash))!.gasUsed;
    events += summary.eventCount;
  }
  provider.destroy();
  return { perEvent: Number(gas) / events, perAnchor: Number(gas) / (to - from + 1) };
}

async function profile(blockTime: number) {
  const env = { BATCH_INTERVAL_MS: String(BATCH_INTERVAL_MS), MAX_BACKLOG: "1000000", OPERATOR_LOCKS_PER_MINUTE: "1000000" };
  const stack = await startServiceStack(`consortium-${blockTime}s`, env, "consortium", { blockTime });
  const { service, domain } = stack;
  try {
    const { issuer, operator } = await devSigners(domain);
    await issuePhones(service.url, issuer, LOCKS);
    await anchoredAs(service.url, LOCKS - 1, 1);
    const locks = await lockLatencies(service.url, operator, domain);
    const bulk = await sustained(service.url, issuer);
    const gas = await gasPerEvent(service.url, stack.chain.rpcUrl, bulk.firstBatch, bulk.lastBatch);
    return { blockTime, locks, bulk, gas };
  } finally {
    await stack.stop();
  }
}

/** Report -> anchored and served, one lock at a time. */
async function lockLatencies(url: string, operator: ReturnType<typeof signer>, domain: RegistryDomain) {
  const latencies: number[] = [];
  for (let n = 0; n < LOCKS; n++) {
    const lock = benchPhone(n).lock(domain, devAccount(3).address);
    const started = performance.now();
    await post(url, operator(h(`lock ${n}`), [lock]));
    await anchoredAs(url, n, 2);
    latencies.push(performance.now() - started);
  }
  return { p50: median(latencies), p99: percentile(latencies, 99) };
}

/** Bulk issuance posted at once; events/s from the first post to the last of it anchored. */
async function sustained(url: string, issuer: ReturnType<typeof signer>) {
  const submissions = Array.from({ length: SUBMISSIONS }, (_, s) =>
    issuer(
      h(`bulk ${s}`),
      Array.from({ length: BULK }, (_, i) => issueTo(LOCKS + s * BULK + i, h(`device ${s}-${i}`))),
    ),
  );
  const started = performance.now();
  const answers = [];
  for (const submission of submissions) answers.push(await post(url, submission));
  const last = answers[answers.length - 1].applied.at(-1)!.record.index;
  const anchored = await anchoredAs(url, last, 1);
  const seconds = (performance.now() - started) / 1000;
  return { events: SUBMISSIONS * BULK, seconds, firstBatch: answers[0].batch, lastBatch: anchored.anchored.anchor.batch };
}

async function main() {
  console.log(`# Consortium profile (anvil, Osaka rules with the tx gas cap, zero base fee), batch interval ${BATCH_INTERVAL_MS} ms\n`);
  const rows = [];
  for (const blockTime of [1, 2]) {
    const { locks, bulk, gas } = await profile(blockTime);
    const goal = blockTime * 1000 + BATCH_INTERVAL_MS + 300;
    const batches = bulk.lastBatch - bulk.firstBatch + 1;
    const perBlock = Math.min(IN_FLIGHT, Math.floor(consortiumRules().gasLimit / gas.perAnchor));
    rows.push([
      `${blockTime} s`,
      `${fmt(locks.p50)} ms`,
      `${fmt(locks.p99)} ms`,
      `${fmt(goal)} ms`,
      fmt(bulk.events / bulk.seconds),
      `${fmt((perBlock * bulk.events) / batches / blockTime)} (${perBlock} anchors a block)`,
      fmt(gas.perEvent),
    ]);
  }
  table(
    [
      "block time",
      "lock p50",
      "lock p99",
      "goal (block + interval + 0.3 s)",
      "bulk anchored events/s",
      "ceiling: anchors a block (in flight, gas limit) × events per anchor / block time",
      "gas per issuance",
    ],
    rows,
  );
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
