/**
 * The store alone (no HTTP, no signatures, no chain) at national scale: journal N credentials
 * in 3,000-event submissions, then open the data directory in a fresh process and time the
 * rebuild of the in-memory state. Run: npm run bench:store [-- --quick]   (10M; 1M with --quick)
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { blankEvent, Channel, EventKind, type Hex, type StatusEvent } from "../registry-service/src/core";
import { RegistryStore } from "../registry-service/src/storage/registryStore";
import { fmt, seconds, table } from "./support";

const SUBMISSION = 3_000;
const hash = () => `0x${randomBytes(32).toString("hex")}` as Hex;
const issuer = "0x00000000000000000000000000000000000000aa" as Hex;

async function write(dir: string, credentials: number): Promise<number> {
  const store = await RegistryStore.open(dir);
  const started = process.hrtime.bigint();
  for (let n = 0; n < credentials; n += SUBMISSION) {
    const events: StatusEvent[] = Array.from({ length: SUBMISSION }, () => ({
      ...blankEvent(EventKind.Issue),
      holderRef: hash(),
      credentialCommitment: hash(),
      deviceKeyHash: hash(),
      channel: Channel.ChipCard,
    }));
    await store.accept(issuer, { issuer: true, operator: false }, { nonce: hash(), signature: `0x${"11".repeat(65)}`, events });
  }
  const elapsed = seconds(started);
  await store.close();
  return elapsed;
}

/** In this (fresh) process: open the store and report time and resident memory as JSON. */
async function open(dir: string): Promise<void> {
  const started = process.hrtime.bigint();
  const store = await RegistryStore.open(dir);
  const elapsed = seconds(started);
  const probe = store.record(0); // keep the store alive until memory is read
  console.log(JSON.stringify({ seconds: elapsed, rss: process.memoryUsage().rss, used: probe !== undefined }));
  await store.close();
}

async function main() {
  if (process.argv[2] === "--open") return open(process.argv[3]);
  const credentials = process.argv.includes("--quick") ? 1_002_000 : 10_002_000;
  const dir = mkdtempSync(path.join(os.tmpdir(), "bench-store-"));
  try {
    console.log(`# Store benchmark (${os.cpus().length} cores, node ${process.version}): ${fmt(credentials)} credentials\n`);
    const writeSeconds = await write(dir, credentials);
    const run = spawnSync(process.execPath, [...process.execArgv, __filename, "--open", dir], {
      encoding: "utf8",
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "1" },
    });
    if (run.status !== 0) throw new Error(run.stderr);
    const opened = JSON.parse(run.stdout.trim().split("\n").pop()!) as { seconds: number; rss: number };
    table(
      ["credentials", "journalled (store alone, synced groups)", "open: state rebuilt from the journal", "resident memory after open"],
      [
        [
          fmt(credentials),
          `${fmt(writeSeconds, 1)} s (${fmt(credentials / writeSeconds)} events/s)`,
          `${fmt(opened.seconds, 1)} s`,
          `${fmt(opened.rss / 2 ** 20)} MiB`,
        ],
      ],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
