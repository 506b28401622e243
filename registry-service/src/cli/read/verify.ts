import { Option, type Command } from "commander";
import { Reason, Status } from "../../core";
import { usageError } from "../errors";
import { chainIdOf, chainOptions, confirmationsOption, hex32, integer, listKeyOf, print, registryOf } from "../options";

/** --source: the status sources a verifier asks (the service, mirrors). */
const sourceOption = (description: string, variadic: boolean) =>
  new Option(variadic ? "--source <url...>" : "--source <url>", description)
    .env("STATUS_SOURCE")
    .default(variadic ? ["http://127.0.0.1:8080"] : "http://127.0.0.1:8080");

/** Refusals because nothing answered: the CLI's "could not run" (exit 2), not a verdict on the credential (exit 1). */
const NOTHING_ANSWERED = new Set(["SOURCE_UNREACHABLE", "CHAIN_UNREACHABLE", "WRONG_CHAIN"]);

export function verifyCommand(program: Command): void {
  chainOptions(program.command("verify"))
    .description(
      "check one credential as a verifier does: proof from a source (or, with --via-list, the published status list), root from your own chain node",
    )
    .argument("<index>", "status index", integer("index"))
    .option("--commitment <hex>", "credential commitment presented (required without --via-list)", hex32("--commitment"))
    .option("--device <hex>", "device-key hash presented (required without --via-list)", hex32("--device"))
    .addOption(sourceOption("status sources (service, mirrors), tried in order", true))
    .option("--max-root-age <seconds>", "accept a root superseded at most this long ago", integer("--max-root-age"), 30)
    .addOption(
      new Option("--min-witnesses <n>", "refuse a root fewer consortium witnesses attested (ROOT_UNWITNESSED)")
        .env("MIN_WITNESSES")
        .argParser(integer("--min-witnesses"))
        .default(0),
    )
    .addOption(confirmationsOption("count a root only once its anchor is this many blocks deep (a chain that can reorganise)"))
    .addOption(
      new Option("--chain-id <id>", "refuse a node of another chain (WRONG_CHAIN); default: the deployment record's").env("CHAIN_ID"),
    )
    .option("--ignore-pending", "accept although the source reports a lock not yet anchored (by default: refused, PENDING_LOCK)")
    // the default since the SDK fails closed on pending locks; still accepted so that scripts written for it keep working
    .addOption(new Option("--deny-pending").hideHelp().conflicts("ignorePending"))
    .option("--via-list [url]", "read the Token Status List published at this base URL (default: the first --source) instead of a proof")
    .addOption(
      new Option("--list-key <file>", "with --via-list: the issuer's list-signing public key (a JWK file), pinned").env("LIST_PUBLIC_KEY"),
    )
    .action(async (index: number, options) => {
      const result = options.viaList ? await checkViaList(index, options) : await checkViaProof(index, options);
      const record = result.record
        ? ` [record: ${Status[result.record.status]}, reason ${Reason[result.record.reason]}, batch ${result.record.batch}]`
        : "";
      print(options.json, result, `${result.reason}: ${result.message}${record}`);
      process.exitCode = result.valid ? 0 : NOTHING_ANSWERED.has(result.reason) ? 2 : 1;
    });
}

interface VerifyOptions {
  rpc: string;
  registry?: string;
  deployment?: string;
  source: string | string[];
  maxRootAge: number;
  minWitnesses: number;
  confirmations: number;
  chainId?: string;
  commitment?: string;
  device?: string;
  ignorePending?: boolean;
  viaList?: string | boolean;
  listKey?: string;
}

const sourcesOf = (options: VerifyOptions) => ([] as string[]).concat(options.source).flatMap((source) => source.split(","));

/** What both checks take from the options: the chain, pinned, and what a root must show. */
const trustOf = (options: VerifyOptions) => ({
  chain: options.rpc,
  registry: registryOf(options),
  chainId: chainIdOf(options),
  maxRootAgeSeconds: options.maxRootAge,
  minWitnesses: options.minWitnesses,
  confirmations: options.confirmations,
});

async function checkViaProof(index: number, options: VerifyOptions) {
  if (!options.commitment || !options.device)
    throw usageError("give --commitment and --device (what the credential presents), or check through the status list with --via-list");
  const { createVerifier } = await import("../../verifier");
  const verifier = await createVerifier({
    ...trustOf(options),
    sources: sourcesOf(options),
    pendingPolicy: options.ignorePending ? "ignore" : "deny",
  });
  return verifier.check(index, { credentialCommitment: options.commitment, deviceKeyHash: options.device });
}

async function checkViaList(index: number, options: VerifyOptions) {
  if (!options.listKey) throw usageError("--via-list needs the issuer's list-signing public key: --list-key <jwk file> or LIST_PUBLIC_KEY");
  const { createListVerifier } = await import("../../verifier");
  const verifier = await createListVerifier({
    ...trustOf(options),
    lists: typeof options.viaList === "string" ? options.viaList : sourcesOf(options)[0],
    listKey: listKeyOf(options.listKey),
  });
  return verifier.check(index);
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
