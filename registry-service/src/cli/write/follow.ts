import type { Command } from "commander";
import type { SubmissionStatus } from "../../client/submissionClient";
import { verifyReceipt, type VerifiedReceipt } from "../../verifier";
import { CliError } from "../errors";
import { address, hex32, jsonOption, print, registryOf, registryOptions } from "../options";
import { appliedChanges, changeText } from "./report";
import { askSubmission, serviceOption, waitAnchored } from "./service";

interface FollowOptions {
  service: string;
  wait?: boolean;
  json?: boolean;
  rpc: string;
  registry?: string;
  deployment?: string;
}

/** mobile-id submission <signer> <nonce>: accepted -> cut at positions -> anchored, and its receipts checked against the chain. */
export function submissionCommand(program: Command): void {
  jsonOption(registryOptions(serviceOption(program.command("submission"))))
    .description(
      "follow one submission: accepted, cut into a batch at positions, anchored in a transaction; with a registry, check its receipts on the chain",
    )
    .argument("<signer>", "the signer's address", address("signer"))
    .argument("<nonce>", "the submission's nonce", hex32("nonce"))
    .option("--wait", "wait until it is anchored")
    .action(async (signer: string, nonce: string, options: FollowOptions) => {
      const service = { url: options.service.replace(/\/+$/, "") };
      const status = options.wait ? await waitAnchored(service, signer, nonce) : await askSubmission(service, signer, nonce);
      if (!status)
        throw new CliError("REFUSED", `the service at ${service.url} never accepted submission ${nonce} of ${signer}`, "NOT_FOUND");
      const checkOnChain = Boolean(options.registry || options.deployment) && status.state === "anchored";
      const receipts = checkOnChain ? await verifyReceipts(options, service.url, status) : undefined;
      print(options.json, { ...status, verifiedReceipts: receipts }, statusText(status, receipts));
      if (receipts?.some((receipt) => !receipt.verified)) process.exitCode = 1;
    });
}

/** Each of its events' receipts, checked with the verifier SDK against the chain's BatchAnchored log. */
async function verifyReceipts(options: FollowOptions, source: string, status: SubmissionStatus): Promise<VerifiedReceipt[]> {
  const registry = registryOf(options);
  const positions = status.positions ?? [];
  return Promise.all(positions.map((position) => verifyReceipt({ chain: options.rpc, registry, source, batch: status.batch, position })));
}

function statusText(status: SubmissionStatus, receipts: VerifiedReceipt[] | undefined): string {
  const lines = [
    `submission ${status.nonce} of ${status.signer}: ${status.state.toUpperCase()}`,
    `accepted: journal seq ${status.seq}, intake block ${status.intakeBlock}, deadline ${new Date(status.deadline * 1000).toISOString()}`,
    ...appliedChanges(status.applied).map((change) => `  ${changeText(change)}`),
    `batch ${status.batch}${status.positions ? `, positions ${status.positions.join(", ")}` : " (not cut yet)"}`,
  ];
  if (status.receipts.length) lines.push(`receipts: ${status.receipts.join(", ")}`);
  if (status.transactionHash) lines.push(`anchored in transaction ${status.transactionHash} (block ${status.blockNumber})`);
  for (const receipt of receipts ?? []) lines.push(`${receipt.verified ? "VERIFIED" : "NOT VERIFIED"}: ${receipt.message}`);
  return lines.join("\n");
}
