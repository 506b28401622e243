import type { Command } from "commander";
import type { Wallet } from "ethers";
import type { StatusEvent } from "../../core";
import { DEFAULT_VALIDITY_SECONDS, signEvents, type SubmissionResult } from "../../client/submissionClient";
import { keyOptions, loadWallet } from "../keys";
import { integer, jsonOption } from "../options";
import { anchoredAt, anchoredText, appliedChanges, changeText, followCommand, type AppliedChange, type AnchoredAt } from "./report";
import { connectService, isAccepted, post, refusal, serviceOption, waitAnchored, type Service } from "./service";

export interface WriteOptions {
  service: string;
  keystore?: string;
  validFor: number;
  wait?: boolean;
  json?: boolean;
}

/** What every signing command takes: --service, --keystore, --valid-for, --wait, --json. */
export const writeOptions = (command: Command): Command =>
  jsonOption(keyOptions(serviceOption(command)))
    .option(
      "--valid-for <seconds>",
      "the signed deadline, from now: the submission is anchored by then or never",
      integer("--valid-for"),
      DEFAULT_VALIDITY_SECONDS,
    )
    .option("--wait", "wait until it is anchored, then print its transaction and receipts");

/** What one accepted submission did, and where to follow it. */
export interface WriteReport {
  command: string;
  status: number;
  duplicate: boolean;
  signer: string;
  nonce: string;
  deadline: number;
  seq: number;
  batch: number;
  intakeBlock: number;
  applied: AppliedChange[];
  follow: string;
  anchored?: AnchoredAt;
}

/** A writer: its key and its service, opened once for the submissions of one command. */
export class Writer {
  private constructor(
    readonly wallet: Wallet,
    readonly service: Service,
    private readonly options: WriteOptions,
  ) {}

  static async open(options: WriteOptions): Promise<Writer> {
    const wallet = await loadWallet(options);
    return new Writer(wallet, await connectService(options.service), options);
  }

  /** Signs and posts `events` as one submission, and with --wait waits for its anchor; throws the service's refusal (exit 1). */
  async write(command: string, events: StatusEvent[]): Promise<WriteReport> {
    return this.waitIfAsked(await this.submit(command, events));
  }

  /** With --wait, the report once its submission is anchored (with transaction and receipts); else the report as it is. */
  async waitIfAsked(report: WriteReport): Promise<WriteReport> {
    if (!this.options.wait) return report;
    return { ...report, anchored: anchoredAt(await waitAnchored(this.service, report.signer, report.nonce)) };
  }

  /** Signs and posts `events` as one submission; throws the service's refusal (exit 1). */
  async submit(command: string, events: StatusEvent[]): Promise<WriteReport> {
    const signed = await signEvents(this.wallet, this.service.domain, events, { validitySeconds: this.options.validFor });
    const answer = await post(this.service, signed, (pushback, seconds) =>
      console.error(`mobile-id: ${pushback.status} ${pushback.body.code}: sending it again in ${seconds} s`),
    );
    if (!isAccepted(answer)) throw refusal(answer);
    const body = answer.body as SubmissionResult;
    return {
      command,
      status: answer.status,
      duplicate: body.duplicate,
      signer: body.signer,
      nonce: signed.nonce,
      deadline: signed.deadline,
      seq: body.seq,
      batch: body.batch,
      intakeBlock: body.intakeBlock,
      applied: appliedChanges(body.applied),
      follow: followCommand(this.service, body.signer, signed.nonce),
    };
  }
}

export function reportText(report: WriteReport): string {
  const changes = report.applied.map(changeText).join("; ");
  const head = `${report.command.toUpperCase()} accepted (${report.status}): ${changes}; batch ${report.batch}, intake block ${report.intakeBlock}`;
  return [head, report.anchored ? anchoredText(report.anchored) : `follow it: ${report.follow}`].join("\n");
}
