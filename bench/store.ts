/**
 * Intake and the journal alone (no HTTP, no signatures, no chain) at national scale: journal N credentials
 * in 3,000-event submissions, then open the data directory in a fresh process and time the
 * rebuild of the in-memory state. Run: npm run bench:store [-- --quick]   (10M; 1M with --quick)
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { blankEvent, Channel, deadlineIn, EventKind, type Hex, type StatusEvent } from "../registry-service/src/core";
import { DEFAULT_BATCH_POLICY, Intake } from "../registry-service/src/intake";
import { LevelJournal } from "../registry-service/src/journal";
import { fmt, seconds, table } from "./support";

const SUBMISSION = 3_000;
const hash = () => `0x${randomBytes(32).toString("hex")}` as Hex;
const issuer = "0x00000000000000000000000000000000000000aa" as Hex;

/** Intake over the LevelDB journal in `dir`, rebuilt from it as the service does on start. */
async function openIntake(dir: string) {
  const journal = await LevelJournal.open(dir);
  // no anchoring here: the backlog bound must not stop the journalling
  const { intake } = await Intake.open(journal, { ...DEFAULT_BATCH_POLICY, maxBacklog: Infinity }, 2 ** 32);
  return { journal, intake };
}

async function write(dir: string, credentials: number): Promise<number> {
  const { journal, intake } = await openIntake(dir);
  const started = process.hrtime.bigint();
  for (let n = 0; n < credentials; n += SUBMISSION) {
    const events: StatusEvent[] = Array.from({ length: SUBMISSION }, () => ({
      ...blankEvent(EventKind.Issue),
      credentialCommitment: hash(),
      deviceKeyHash: hash(),
      channel: Channel.ChipCard,
    }));
    const submission = { nonce: hash(), deadline: deadlineIn(3600), signature: `0x${"11".repeat(65)}` as const, events };
    await intake.accept(issuer, { roles: { issuer: true, operator: false }, block: 1 }, submission);
  }
  const elapsed = seconds(started);
  await journal.close();
  return elapsed;
}

/** In this (fresh) process: open the journal, rebuild intake's state, report time and resident memory as JSON. */
async function open(dir: string): Promise<void> {
  const started = process.hrtime.bigint();
  const { journal, intake } = await openIntake(dir);
  const elapsed = seconds(started);
  const probe = intake.record(0); // keep the state alive until memory is read
  console.log(JSON.stringify({ seconds: elapsed, rss: process.memoryUsage().rss, used: probe !== undefined }));
  await journal.close();
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
      [
        "credentials",
        "journalled (intake and journal alone, synced groups)",
        "open: state rebuilt from the journal",
        "resident memory after open",
      ],
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
