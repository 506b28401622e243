import type { Command } from "commander";
import { Status, type StatusRecord } from "../../core";
import { httpStatusSource, parseStatusAnswer, SourceError } from "../../verifier";
import { CliError, usageError } from "../errors";
import { integer, print } from "../options";
import { buildEvent, type EventFields, type IssuedCredential, type KindName } from "./events";
import { HolderRegister, HOLDER_KEY_ENV } from "./register";
import type { Service } from "./service";
import { reportText, writeOptions, Writer, type WriteOptions, type WriteReport } from "./writer";

interface IssuanceOptions extends WriteOptions, EventFields {
  nationalId?: string;
  register?: string;
}

/** The options of a new credential: what a service centre has in front of it. */
function issuanceOptions(command: Command): Command {
  return writeOptions(command)
    .option("--device-key <file|hex>", "the wallet's P-256 public key: a JWK file, or SEC1 hex")
    .option("--device-key-hash <hex>", "or the device key hash itself")
    .requiredOption("--credential-id <id>", "the credential's own identifier (document number or jti)")
    .option("--salt <hex>", "32-byte salt of the credential commitment (default: generated, and printed)")
    .option("--channel <name>", "chip-card, qr-code or online-portal", "chip-card")
    .option("--national-id <id>", `the holder, looked up in --register by holderRef (keyed with ${HOLDER_KEY_ENV}; never printed or sent)`)
    .option("--register <file>", "the issuer's register: holderRef -> current index (created if missing)");
}

export function issuanceCommands(program: Command): void {
  issuanceOptions(program.command("issue"))
    .description("issue an ID to a phone; with --national-id and --register, a re-issue of the holder's live ID if there is one")
    .action((options: IssuanceOptions) => issue(options, undefined));
  issuanceOptions(program.command("reissue"))
    .description("issue a new ID to a new phone, superseding index N (revoked as SUPERSEDED in the same batch)")
    .requiredOption("--index <n>", "the index it supersedes", integer("--index"))
    .action((options: IssuanceOptions & { index: number }) => issue(options, options.index));
}

async function issue(options: IssuanceOptions, supersedes: number | undefined): Promise<void> {
  if (Boolean(options.nationalId) !== Boolean(options.register)) throw usageError("--national-id and --register go together");
  const register = options.register ? HolderRegister.open(options.register, options.nationalId!) : undefined;
  const writer = await Writer.open(options);
  const index = supersedes ?? (register && (await liveIndex(writer.service, register.current())));
  const kind: KindName = index === undefined ? "issue" : "reissue";
  const { event, credential } = buildEvent(kind, {
    index,
    deviceKey: options.deviceKey,
    deviceKeyHash: options.deviceKeyHash,
    credentialId: options.credentialId,
    salt: options.salt,
    channel: options.channel,
  });
  const accepted = await writer.submit(kind, [event]);
  const issued = accepted.applied[accepted.applied.length - 1].index;
  register?.record(issued); // once the service took it, not once it is anchored: the next issue must see it
  const report = await writer.waitIfAsked(accepted);
  print(options.json, { ...report, credential }, issuanceText(report, credential!, issued));
}

/** The register's index for the holder if its credential is not revoked (pending changes count): the one a re-issue names. */
async function liveIndex(service: Service, index: number | undefined): Promise<number | undefined> {
  if (index === undefined) return undefined;
  let record: StatusRecord;
  try {
    const answer = parseStatusAnswer(await httpStatusSource(service.url).status(index), index);
    record = answer.pending ?? answer.anchored.record;
  } catch (error) {
    if (error instanceof SourceError && error.reason === "SOURCE_UNREACHABLE") throw new CliError("UNREACHABLE", error.message);
    throw usageError(`the register names index ${index}, which the service cannot show: ${(error as Error).message}`);
  }
  return record.status === Status.Revoked ? undefined : index;
}

function issuanceText(report: WriteReport, credential: IssuedCredential, index: number): string {
  const salt = credential.saltGenerated
    ? `${credential.salt} (generated: the credential carries it beside index ${index})`
    : credential.salt;
  return [
    reportText(report),
    `credential ${credential.credentialId}: index ${index}, salt ${salt}`,
    `a verifier checks it with: mobile-id verify ${index} --commitment ${credential.credentialCommitment} --device ${credential.deviceKeyHash}`,
  ].join("\n");
}
