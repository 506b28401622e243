import path from "node:path";
import type { Command } from "commander";
import { keyOptions, loadWallet } from "../../keys";
import { integer, jsonOption, print, progressBar } from "../../options";
import { connectService, serviceOption } from "../service";
import { DEFAULT_VALIDITY_SECONDS } from "../../../client/submissionClient";
import { BULK_FORMAT_HELP, readBulkFile, type BulkLine } from "./input";
import { MAX_EVENTS_PER_SUBMISSION } from "./plan";
import { BulkRun } from "./run";
import { BulkState, type ChunkRecord } from "./state";

interface BulkOptions {
  service: string;
  keystore?: string;
  validFor: number;
  maxEvents: number;
  state?: string;
  json?: boolean;
}

export function bulkCommand(program: Command): void {
  jsonOption(keyOptions(serviceOption(program.command("bulk"))))
    .description("sign and post the events of a CSV or NDJSON file in submissions that fit one anchor; resumable after an interruption")
    .argument("<file>", "CSV (header row) or NDJSON, one event per line")
    .option("--state <file>", "where the run keeps each signed submission and its answer (default: <file>.progress.json)")
    .option(
      "--max-events <n>",
      "events per submission at most (each is also cut to what one anchor carries)",
      integer("--max-events"),
      MAX_EVENTS_PER_SUBMISSION,
    )
    .option(
      "--valid-for <seconds>",
      "each submission's signed deadline, from when it is signed",
      integer("--valid-for"),
      DEFAULT_VALIDITY_SECONDS,
    )
    .addHelpText("after", BULK_FORMAT_HELP)
    .action((file: string, options: BulkOptions) => runBulk(file, options));
}

async function runBulk(file: string, options: BulkOptions): Promise<void> {
  const { lines, sha256 } = readBulkFile(file);
  const wallet = await loadWallet(options);
  const service = await connectService(options.service);
  const stateFile = options.state ?? `${file}.progress.json`;
  const run = { input: path.resolve(file), sha256, signer: wallet.address, domainHash: service.answer.domainHash };
  const state = BulkState.open(stateFile, run);
  const bulk = new BulkRun(lines, state, wallet, service, {
    validFor: options.validFor,
    maxEvents: Math.max(1, Math.min(options.maxEvents, MAX_EVENTS_PER_SUBMISSION)),
    onPushback: (answer, seconds) => console.error(`mobile-id: ${answer.status} ${answer.body.code}: sending it again in ${seconds} s`),
  });
  const bar = progressBar(!options.json, "posting |{bar}| {value}/{total} lines | {eta_formatted} left");
  bar?.start(lines.length, settledLines(state.chunks));
  try {
    // stored chunks first, in order (a resend of each is answered with its first result), then the rest of the file
    const settle = async (chunk: ChunkRecord) => {
      await bulk.settle(chunk);
      bar?.increment(chunk.count);
    };
    for (const chunk of state.chunks) if (!chunk.outcome) await settle(chunk);
    while (state.planned < lines.length) await settle(await bulk.planNext());
  } finally {
    bar?.stop();
  }
  const summary = bulkSummary(file, stateFile, lines, state.chunks);
  print(options.json, summary, summaryText(summary));
  if (summary.refused.length > 0) process.exitCode = 1;
}

const settledLines = (chunks: readonly ChunkRecord[]) => chunks.reduce((sum, chunk) => sum + (chunk.outcome ? chunk.count : 0), 0);

/** What a finished run did, line by line: each accepted line's index (and generated salt), each refused chunk's lines and code. */
function bulkSummary(file: string, stateFile: string, lines: readonly BulkLine[], chunks: readonly ChunkRecord[]) {
  const results: { line: number; kind: string; index: number; batch: number; salt?: string }[] = [];
  const refused: { lines: number[]; status: number; code: string; message: string }[] = [];
  for (const chunk of chunks) {
    const chunkLines = lines.slice(chunk.first, chunk.first + chunk.count);
    const outcome = chunk.outcome!;
    if ("code" in outcome) {
      refused.push({ lines: chunkLines.map(({ line }) => line), ...outcome });
      continue;
    }
    chunkLines.forEach(({ line, kind }, i) => {
      const salt = chunk.salts[String(line)];
      results.push({ line, kind, index: outcome.indexes[i], batch: outcome.batch, ...(salt ? { salt } : {}) });
    });
  }
  return { file, state: stateFile, lines: lines.length, submissions: chunks.length, applied: results.length, refused, results };
}

function summaryText(summary: ReturnType<typeof bulkSummary>): string {
  const head = `${summary.file}: ${summary.lines} lines in ${summary.submissions} submission(s): ${summary.applied} applied, ${summary.lines - summary.applied} refused (state: ${summary.state})`;
  const refused = summary.refused.map(
    (chunk) => `REFUSED lines ${chunk.lines[0]}-${chunk.lines[chunk.lines.length - 1]}: ${chunk.status} ${chunk.code}: ${chunk.message}`,
  );
  const issued = summary.results
    .filter((result) => result.kind === "issue" || result.kind === "reissue")
    .map((result) => `line ${result.line} ${result.kind}: index ${result.index}${result.salt ? `, salt ${result.salt} (generated)` : ""}`);
  return [head, ...refused, ...issued].join("\n");
}
