import { Option, type Command } from "commander";
import { Reason, Status } from "../../core";
import { chainOptions, hex32, integer, print, registryOf } from "../options";

/** --source: the status sources a verifier asks (the service, mirrors). */
const sourceOption = (description: string, variadic: boolean) =>
  new Option(variadic ? "--source <url...>" : "--source <url>", description)
    .env("STATUS_SOURCE")
    .default(variadic ? ["http://127.0.0.1:8080"] : "http://127.0.0.1:8080");

export function verifyCommand(program: Command): void {
  chainOptions(program.command("verify"))
    .description("check one credential as a verifier does: proof from a source, root from your own chain node")
    .argument("<index>", "status index", integer("index"))
    .requiredOption("--commitment <hex>", "credential commitment presented", hex32("--commitment"))
    .requiredOption("--device <hex>", "device-key hash presented", hex32("--device"))
    .addOption(sourceOption("status sources (service, mirrors), tried in order", true))
    .option("--max-root-age <seconds>", "accept a root superseded at most this long ago", integer("--max-root-age"), 30)
    .option("--ignore-pending", "accept although the source reports a lock not yet anchored (by default: refused, PENDING_LOCK)")
    // the default since the SDK fails closed on pending locks; still accepted so that scripts written for it keep working
    .addOption(new Option("--deny-pending").hideHelp().conflicts("ignorePending"))
    .action(async (index: number, options) => {
      const { createVerifier } = await import("../../verifier");
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

export function receiptCommand(program: Command): void {
  chainOptions(program.command("receipt"))
    .description("prove that one event (e.g. a lost-phone lock) is in an anchored batch")
    .argument("<batch>", "batch number", integer("batch"))
    .argument("<position>", "event position in the batch", integer("position"))
    .addOption(sourceOption("the registry service", false))
    .action(async (batch: number, position: number, options) => {
      const { verifyReceipt } = await import("../../verifier");
      const receipt = await verifyReceipt({ chain: options.rpc, registry: registryOf(options), source: options.source, batch, position });
      const where = receipt.transactionHash ? `\ntransaction ${receipt.transactionHash}, block ${receipt.blockNumber}` : "";
      print(options.json, receipt, `${receipt.verified ? "VERIFIED" : "NOT VERIFIED"}: ${receipt.message}${where}`);
      process.exitCode = receipt.verified ? 0 : 1;
    });
}
