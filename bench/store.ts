/**
 * Intake and the journal alone (no HTTP, no signatures, no chain) at national scale: journal N credentials
 * in 3,000-event submissions, then open the data directory in a fresh process and time the
 * rebuild of the in-memory state by a scan of the journal and the state checkpoint written (a
 * graceful stop); then, in another fresh process, the same state read back from the checkpoint
 * (the next start), and the device index rebuilt from the records instead of read, for comparison.
 * Run: npm run bench:store [-- --quick | --credentials N]   (10M; 1M with --quick)
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { blankEvent, Channel, deadlineIn, EventKind, RECORD_DEVICE_AT, type Hex, type StatusEvent } from "../registry-service/src/core";
import { DEFAULT_BATCH_POLICY, Intake, openIntakeState } from "../registry-service/src/intake";
import { LevelJournal } from "../registry-service/src/journal";
import { fmt, mib, seconds, table, time, timeAsync } from "./support";

const SUBMISSION = 3_000;
const CHECKPOINT = "state.checkpoint";
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

/** In this (fresh) process: open the journal, rebuild intake's state by a scan, then write its checkpoint (a graceful stop); times and resident memory as JSON. */
async function open(dir: string): Promise<void> {
  const started = process.hrtime.bigint();
  const { journal, intake } = await openIntake(dir);
  const elapsed = seconds(started);
  const rss = process.memoryUsage().rss; // the state is alive: intake holds it
  const written = await timeAsync(() => intake.saveCheckpoint(path.join(dir, CHECKPOINT)));
  if (written.value) throw new Error(`no checkpoint: ${written.value}`);
  const bytes = statSync(path.join(dir, CHECKPOINT)).size;
  console.log(JSON.stringify({ seconds: elapsed, rss, writeSeconds: written.seconds, bytes }));
  await journal.close();
}

/** In this (fresh) process, as a start after a graceful stop: the journal opened and the state read back from the checkpoint; then the device index rebuilt from the records, for comparison. */
async function restore(dir: string): Promise<void> {
  const started = process.hrtime.bigint();
  const journal = await LevelJournal.open(dir);
  const { state, origin } = await openIntakeState(journal, path.join(dir, CHECKPOINT));
  const elapsed = seconds(started);
  if (origin.from !== "checkpoint") throw new Error(`checkpoint refused: ${JSON.stringify(origin)}`);
  const rss = process.memoryUsage().rss;
  const { records, devices } = state.parts();
  const rebuilt = time(() => {
    const index = records.deviceIndex();
    for (let i = 0; i < records.size; i++) index.set(records.raw(i)!.subarray(RECORD_DEVICE_AT, RECORD_DEVICE_AT + 32), i);
    return index.size;
  });
  if (rebuilt.value !== devices.size) throw new Error(`device index rebuilt with ${rebuilt.value} bindings, read with ${devices.size}`);
  console.log(JSON.stringify({ readSeconds: elapsed, readRss: rss, deviceIndexSeconds: rebuilt.seconds }));
  await journal.close();
}

/** Runs this script's `phase` on `dir` in a fresh process and returns the JSON it prints last. */
function inFreshProcess(phase: string, dir: string): Record<string, number> {
  const run = spawnSync(process.execPath, [...process.execArgv, __filename, phase, dir], {
    encoding: "utf8",
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "1" },
  });
  if (run.status !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout.trim().split("\n").pop()!) as Record<string, number>;
}

async function main() {
  if (process.argv[2] === "--open") return open(process.argv[3]);
  if (process.argv[2] === "--restore") return restore(process.argv[3]);
  const asked = process.argv.indexOf("--credentials");
  const credentials = asked > 0 ? Number(process.argv[asked + 1]) : process.argv.includes("--quick") ? 1_002_000 : 10_002_000;
  const dir = mkdtempSync(path.join(os.tmpdir(), "bench-store-"));
  try {
    console.log(`# Store benchmark (${os.cpus().length} cores, node ${process.version}): ${fmt(credentials)} credentials\n`);
    const writeSeconds = await write(dir, credentials);
    const opened = { ...inFreshProcess("--open", dir), ...inFreshProcess("--restore", dir) };
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
    table(
      [
        "same state (each in a fresh process)",
        "state checkpoint written (at the stop)",
        "read back (the next start)",
        "scan / read back",
        "its size",
        "device index rebuilt from the records instead",
      ],
      [
        [
          `${fmt(opened.seconds, 1)} s scan`,
          `${fmt(opened.writeSeconds, 2)} s`,
          `${fmt(opened.readSeconds, 2)} s`,
          `${fmt(opened.seconds / opened.readSeconds, 1)}x`,
          `${mib(opened.bytes)} (resident after: ${mib(opened.readRss)})`,
          `${fmt(opened.deviceIndexSeconds, 2)} s`,
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
