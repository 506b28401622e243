import type { Command } from "commander";
import type { AuditReport } from "../../audit/audit";
import { chainOptions, connectChain, integer, listKeyOf, print, progressBar, registryOf } from "../options";

function auditText(report: AuditReport): string {
  const head = `registry ${report.registry} on chain ${report.chainId}, read to block ${report.headBlock}`;
  const replayed = `${report.batches} batches, ${report.events} events replayed in ${report.seconds.toFixed(1)} s (${Math.round(report.events / Math.max(report.seconds, 1e-3))} events/s)`;
  const corrected = report.corrections.flatMap(correctionText);
  const witnessCount = Object.keys(report.witnesses.byWitness).length;
  const witnessed = `${report.witnesses.attestations} attestations by ${witnessCount} witnesses checked`;
  const lists = `\n${witnessed}${report.lists ? `\n${report.lists.checked} published lists at ${report.lists.url} checked` : ""}`;
  if (report.ok)
    return [
      "AUDIT PASSED",
      head,
      replayed,
      `status root ${report.statusRoot} recomputed from calldata equals the anchored root${lists}`,
      ...corrected,
    ].join("\n");
  const counts = Object.entries(report.counts).map(([code, n]) => `${code} ${n}`);
  const stopped =
    report.stoppedAt === null
      ? "read to the head"
      : `stopped at batch ${report.stoppedAt}: the replayed state cannot follow the chain past it`;
  return [
    `AUDIT FAILED: ${report.findings.length} finding(s) (${counts.join(", ")})`,
    ...report.findings.map(findingText),
    `${head}; ${replayed}; ${stopped}${lists}`,
    ...corrected,
  ].join("\n");
}

/** A correction the admin made, and what the batches it struck held (history: they stay on chain). */
function correctionText(c: AuditReport["corrections"][number]): string[] {
  const struck = c.through === c.base + 1 ? `batch ${c.through}` : `batches ${c.base + 1}..${c.through}`;
  return [
    `CORRECTION at batch ${c.batch} (transaction ${c.transactionHash}): re-based on batch ${c.base}, ${struck} struck by the admin; they held:`,
    ...c.struck.map((finding, n) => `  ${findingText(finding, n).replace(/\n/g, "\n  ")}`),
  ];
}

function findingText(d: AuditReport["findings"][number], n: number): string {
  const lines = [`[${n + 1}] ${d.code} at batch ${d.batch}: ${d.message}`];
  const [expected, found] = d.list ? ["expected ", "found    "] : d.witness ? ["replayed ", "attested "] : ["anchored ", "computed "];
  if (d.expected) lines.push(`    ${expected} ${d.expected}`);
  if (d.computed) lines.push(`    ${found} ${d.computed}`);
  if (d.list) lines.push(`    list      ${d.list.url} (${d.list.form}${d.list.index === undefined ? "" : `, index ${d.list.index}`})`);
  lines.push(`    transaction ${d.transactionHash}`);
  return lines.join("\n");
}

export function auditCommand(program: Command): void {
  chainOptions(program.command("audit"))
    .description("replay every anchored batch from chain data: signatures, roles at each block, event and status roots")
    .option("--from-block <n>", "first block to read (the registry's deployment block)", integer("--from-block"), 0)
    .option("--block-span <n>", "blocks per eth_getLogs call", integer("--block-span"), 10_000)
    .option("--fail-fast", "stop at the first finding (by default every finding the replay can establish is reported)")
    .option("--no-progress", "no progress bar")
    .option(
      "--lists <url>",
      "also check the status lists published at this base URL: every entry against the replayed state at the list's anchor",
    )
    .option("--list-key <file>", "with --lists: the issuer's list-signing public key (a JWK file); a list it did not sign is a finding")
    .action(async (options) => {
      const registry = registryOf(options);
      // loaded by the command that uses them: the writers' commands start without the replay
      const { runAudit } = await import("../../audit/audit");
      const provider = await connectChain(options.rpc);
      const bar = progressBar(
        options.progress && !options.json,
        "replaying |{bar}| batch {value}/{total} | {events} events | {eta_formatted} left",
      );
      const report = await runAudit(provider, registry, {
        fromBlock: options.fromBlock,
        blockSpan: options.blockSpan,
        failFast: options.failFast,
        lists: options.lists ? { url: options.lists, key: options.listKey ? listKeyOf(options.listKey) : undefined } : undefined,
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
