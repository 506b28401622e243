/**
 * mobile-id: the command line of the registry's parties. Auditors and verifiers: audit, mirror,
 * witness, verify, receipt. Issuers and operators: issue, reissue, suspend, reinstate, revoke, lock, bulk,
 * submission, device-key-hash, device-grant, keystore. The admin: roles, pause, unpause, approve-correction, admin (two-step transfer). Every command has --help and --json.
 * Exit codes: 0 done (valid, audit passed, accepted); 1 refused (by the service or the chain, with
 * its code), a divergence, an invalid credential; 2 could not run (bad arguments or input, no key,
 * chain or service unreachable), with one clear line on stderr.
 */
import { Command, CommanderError } from "commander";
import { adminCommands } from "./admin";
import { CliError } from "./errors";
import { keystoreCommand, refuseSecretArguments } from "./keys";
import { packageVersion } from "./options";
import { auditCommand } from "./read/audit";
import { mirrorCommand } from "./read/mirror";
import { receiptCommand, verifyCommand } from "./read/verify";
import { bulkCommand } from "./write/bulk/command";
import { deviceGrantCommand, deviceKeyHashCommand } from "./write/deviceKey";
import { submissionCommand } from "./write/follow";
import { issuanceCommands } from "./write/issuance";
import { lockCommand } from "./write/lock";
import { witnessCommand } from "./witness";
import { statusChangeCommands } from "./write/statusChange";

const EXIT_CODES = `
Exit codes: 0 done (valid, passed, accepted); 1 refused by the service or the chain (its code on
stderr), a divergence, an invalid credential; 2 could not run (bad arguments or input, no key,
chain or service unreachable). Keys come from --keystore or MOBILE_ID_PRIVATE_KEY, never from an argument.`;

export function cli(): Command {
  const program = new Command("mobile-id")
    .description(
      "Audit, mirror and verify a mobile-ID status registry from the chain; sign issuers' and operators' writes; administer roles",
    )
    .version(packageVersion())
    .showHelpAfterError("(add --help for usage)")
    .addHelpText("afterAll", EXIT_CODES)
    .exitOverride();
  const commands = [
    auditCommand,
    mirrorCommand,
    witnessCommand,
    verifyCommand,
    receiptCommand,
    issuanceCommands,
    statusChangeCommands,
    lockCommand,
    bulkCommand,
    submissionCommand,
    deviceKeyHashCommand,
    deviceGrantCommand,
    keystoreCommand,
    adminCommands,
  ];
  for (const command of commands) command(program);
  return program;
}

/** Runs the CLI; a refusal is one line and exit code 1, any other failure to run one line and exit code 2. */
export async function main(argv = process.argv): Promise<void> {
  try {
    refuseSecretArguments(argv.slice(2));
    await cli().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? 0 : 2; // help and version exit 0; usage errors were printed already
      return;
    }
    console.error(`mobile-id: ${(error as Error).message.split("\n")[0]}`);
    process.exitCode = error instanceof CliError ? error.exitCode : 2;
  }
}

if (require.main === module) void main();
