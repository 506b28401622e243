/**
 * mobile-id: the auditor's and verifier's command line. Every subcommand has --help and --json.
 * Exit codes: 0 all good (valid, audit passed); 1 a refusal or a divergence; 2 could not run
 * (bad arguments, chain or source unreachable), with one clear line on stderr.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { SingleBar, Presets } from "cli-progress";
import { runAudit, type AuditReport } from "../audit/audit";
import { startMirror } from "../mirror/mirror";
import { connectRpc, createVerifier, verifyReceipt } from "../verifier";
import { Reason, Status } from "../core";

class UsageError extends Error {}

const integer = (name: string) => (value: string) => {
  if (!/^[0-9]+$/.test(value)) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  return Number(value);
};
const hex32 = (name: string) => (value: string) => {
  if (!/^0x[0-9a-fA-F]{64}$/.test(value)) throw new InvalidArgumentError(`${name} must be 32 bytes of 0x-prefixed hex`);
  return value;
};

/** --rpc and --registry, from flags, the environment or a deployment record. */
function chainOptions(command: Command): Command {
  return command
    .addOption(new Option("--rpc <url>", "JSON-RPC URL of YOUR OWN chain node").env("RPC_URL").default("http://127.0.0.1:8545"))
    .addOption(new Option("--registry <address>", "StatusRegistry address").env("REGISTRY_ADDRESS"))
    .option("--deployment <file>", "read the registry address from a deployment record (deploy-registry's output)")
    .option("--json", "print one JSON document instead of text");
}

function registryOf(options: { registry?: string; deployment?: string }): string {
  const address =
    options.registry ??
    (options.deployment ? (JSON.parse(readFileSync(options.deployment, "utf8")) as { address: string }).address : undefined);
  if (!address || !/^0x[0-9a-fA-F]{40}$/.test(address))
    throw new UsageError("give the registry: --registry 0x..., REGISTRY_ADDRESS, or --deployment <file>");
  return address;
}

/** The package's version, from the nearest package.json above this file (sources and build sit at different depths). */
function packageVersion(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, "package.json");
    if (existsSync(file)) return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
  }
  return "unknown";
}

const print = (json: boolean, value: unknown, text: string) => console.log(json ? JSON.stringify(value, null, 2) : text);

function auditText(report: AuditReport): string {
  const head = `registry ${report.registry} on chain ${report.chainId}, read to block ${report.headBlock}`;
  const replayed = `${report.batches} batches, ${report.events} events replayed in ${report.seconds.toFixed(1)} s (${Math.round(report.events / Math.max(report.seconds, 1e-3))} events/s)`;
  if (report.ok)
    return `AUDIT PASSED\n${head}\n${replayed}\nstatus root ${report.statusRoot} recomputed from calldata equals the anchored root`;
  const counts = Object.entries(report.counts).map(([code, n]) => `${code} ${n}`);
  const stopped =
    report.stoppedAt === null
      ? "read to the head"
      : `stopped at batch ${report.stoppedAt}: the replayed state cannot follow the chain past it`;
  return [
    `AUDIT FAILED: ${report.findings.length} finding(s) (${counts.join(", ")})`,
    ...report.findings.map(findingText),
    `${head}; ${replayed}; ${stopped}`,
  ].join("\n");
}

function findingText(d: AuditReport["findings"][number], n: number): string {
  const lines = [`[${n + 1}] ${d.code} at batch ${d.batch}: ${d.message}`];
  if (d.expected) lines.push(`    anchored  ${d.expected}`);
  if (d.computed) lines.push(`    computed  ${d.computed}`);
  lines.push(`    transaction ${d.transactionHash}`);
  return lines.join("\n");
}

export function cli(): Command {
  const program = new Command("mobile-id")
    .description("Audit, mirror and verify a mobile-ID status registry from the chain")
    .version(packageVersion())
    .showHelpAfterError("(add --help for usage)")
    .exitOverride();
  for (const command of [auditCommand, mirrorCommand, verifyCommand, receiptCommand]) command(program);
  return program;
}

/** A progress bar on stderr when it is a terminal (and the output is not JSON). */
function progressBar(show: boolean) {
  if (!show || !process.stderr.isTTY) return undefined;
  const format = "replaying |{bar}| batch {value}/{total} | {events} events | {eta_formatted} left";
  return new SingleBar({ format, stream: process.stderr }, Presets.shades_classic);
}

function auditCommand(program: Command): void {
  chainOptions(program.command("audit"))
    .description("replay every anchored batch from chain data: signatures, roles at each block, event and status roots")
    .option("--from-block <n>", "first block to read (the registry's deployment block)", integer("--from-block"), 0)
    .option("--block-span <n>", "blocks per eth_getLogs call", integer("--block-span"), 10_000)
    .option("--fail-fast", "stop at the first finding (by default every finding the replay can establish is reported)")
    .option("--no-progress", "no progress bar")
    .action(async (options) => {
      const registry = registryOf(options);
      const provider = await connectRpc(options.rpc);
      const bar = progressBar(options.progress && !options.json);
      const report = await runAudit(provider, registry, {
        fromBlock: options.fromBlock,
        blockSpan: options.blockSpan,
        failFast: options.failFast,
        onProgress: (p) => {
          if (!bar) return;
          if (!bar.isActive) bar.start(p.latestBatch, 0, { events: 0 });
          bar.update(p.batch, { events: p.events });
        },
      });
      bar?.stop();
      print(options.json, report, auditText(report));
      process.exitCode = report.ok ? 0 : 1;
    });
}

function mirrorCommand(program: Command): void {
  chainOptions(program.command("mirror"))
    .description("follow the chain, replay it into a tree of its own and serve the verifiers' read API")
    .option("--host <host>", "interface to bind", "127.0.0.1")
    .option("--port <port>", "port", integer("--port"), 8090)
    .option("--poll-ms <ms>", "how often to look for new anchors", integer("--poll-ms"), 1000)
    .action(async (options) => {
      const registry = registryOf(options);
      const provider = await connectRpc(options.rpc);
      const mirror = await startMirror({
        provider,
        registry,
        host: options.host,
        port: options.port,
        pollMs: options.pollMs,
        log: (line) => console.error(line),
      });
      const health = mirror.health();
      print(
        options.json,
        { url: mirror.url, ...health },
        `mirror serving ${mirror.url}/v1/status/:index (batch ${health.batch}, ${health.events} events replayed); Ctrl-C stops it`,
      );
      await new Promise<void>((resolve) => process.once("SIGINT", resolve).once("SIGTERM", resolve));
      await mirror.close();
    });
}

function verifyCommand(program: Command): void {
  chainOptions(program.command("verify"))
    .description("check one credential as a verifier does: proof from a source, root from your own chain node")
    .argument("<index>", "status index", integer("index"))
    .requiredOption("--commitment <hex>", "credential commitment presented", hex32("--commitment"))
    .requiredOption("--device <hex>", "device-key hash presented", hex32("--device"))
    .addOption(
      new Option("--source <url...>", "status sources (service, mirrors), tried in order")
        .env("STATUS_SOURCE")
        .default(["http://127.0.0.1:8080"]),
    )
    .option("--max-root-age <seconds>", "accept a root superseded at most this long ago", integer("--max-root-age"), 30)
    .option("--ignore-pending", "accept although the source reports a lock not yet anchored (by default: refused, PENDING_LOCK)")
    // the default since the SDK fails closed on pending locks; still accepted so that scripts written for it keep working
    .addOption(new Option("--deny-pending").hideHelp().conflicts("ignorePending"))
    .action(async (index: number, options) => {
      const sources = ([] as string[]).concat(options.source).flatMap((source) => source.split(","));
      const verifier = await createVerifier({
        chain: options.rpc,
        registry: registryOf(options),
        sources,
        maxRootAgeSeconds: options.maxRootAge,
        pendingPolicy: options.ignorePending ? "ignore" : "deny",
      });
      const result = await verifier.check(index, { credentialCommitment: options.commitment, deviceKeyHash: options.device });
      const record = result.record
        ? ` [record: ${Status[result.record.status]}, reason ${Reason[result.record.reason]}, batch ${result.record.batch}]`
        : "";
      print(options.json, result, `${result.reason}: ${result.message}${record}`);
      process.exitCode = result.valid ? 0 : 1;
    });
}

function receiptCommand(program: Command): void {
  chainOptions(program.command("receipt"))
    .description("prove that one event (e.g. a lost-phone lock) is in an anchored batch")
    .argument("<batch>", "batch number", integer("batch"))
    .argument("<position>", "event position in the batch", integer("position"))
    .addOption(new Option("--source <url>", "the registry service").env("STATUS_SOURCE").default("http://127.0.0.1:8080"))
    .action(async (batch: number, position: number, options) => {
      const receipt = await verifyReceipt({ chain: options.rpc, registry: registryOf(options), source: options.source, batch, position });
      const where = receipt.transactionHash ? `\ntransaction ${receipt.transactionHash}, block ${receipt.blockNumber}` : "";
      print(options.json, receipt, `${receipt.verified ? "VERIFIED" : "NOT VERIFIED"}: ${receipt.message}${where}`);
      process.exitCode = receipt.verified ? 0 : 1;
    });
}

/** Runs the CLI; any failure to run is one line and exit code 2. */
export async function main(argv = process.argv): Promise<void> {
  try {
    await cli().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? 0 : 2; // help and version exit 0; usage errors were printed already
      return;
    }
    console.error(`mobile-id: ${(error as Error).message.split("\n")[0]}`);
    process.exitCode = 2;
  }
}

if (require.main === module) void main();
