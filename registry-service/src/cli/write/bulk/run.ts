import type { Wallet } from "ethers";
import { appliedEventCount, type StatusEvent, type Submission } from "../../../core";
import { signEvents, type SubmissionResult, type SubmitAnswer } from "../../../client/submissionClient";
import { CliError } from "../../errors";
import { buildEvent } from "../events";
import { askSubmission, isAccepted, isPushback, post, refusal, stillAcceptable, type Service } from "../service";
import type { BulkLine } from "./input";
import { nextChunkSize } from "./plan";
import type { BulkState, ChunkOutcome, ChunkRecord } from "./state";

/** Refusals that say nothing about a chunk's events but about the run (its key, domain, clock, or the service): the run stops, resumable. */
const RUN_REFUSALS = new Set(["ROLE_REQUIRED", "INVALID_SIGNATURE", "DOMAIN_MISMATCH", "DEADLINE_TOO_SOON", "DEADLINE_TOO_FAR"]);

/**
 * Fault injection for the resume tests: MOBILE_ID_BULK_CRASH_AT=<signed|posted>:<chunk> kills the
 * process with SIGKILL once that chunk is stored and signed (before it is posted), or posted (before
 * its answer is stored), as a power cut would. Unset in real use.
 */
function crashPoint(stage: "signed" | "posted", chunk: number): void {
  if (process.env.MOBILE_ID_BULK_CRASH_AT === `${stage}:${chunk}`) process.kill(process.pid, "SIGKILL");
}

export interface BulkRunOptions {
  validFor: number;
  maxEvents: number;
  onPushback?: (answer: SubmitAnswer, seconds: number) => void;
}

/** Posts a bulk file's events chunk by chunk, each chunk stored (signed) before it is posted and its answer stored after. */
export class BulkRun {
  constructor(
    private readonly lines: readonly BulkLine[],
    private readonly state: BulkState,
    private readonly wallet: Wallet,
    private readonly service: Service,
    private readonly options: BulkRunOptions,
  ) {}

  /** Signs the next chunk of unplanned lines and stores it: from now on a resend is the same request. */
  async planNext(): Promise<ChunkRecord> {
    const first = this.state.planned;
    const ahead = this.lines.slice(first, first + this.options.maxEvents).map((line) => line.built.event);
    const count = nextChunkSize(ahead, this.service.answer.submissionLimits, this.options.maxEvents);
    const lines = this.lines.slice(first, first + count);
    const salts = Object.fromEntries(
      lines.flatMap(({ line, built }) => (built.credential?.saltGenerated ? [[String(line), built.credential.salt]] : [])),
    );
    const signed = await signEvents(this.wallet, this.service.domain, this.events({ first, count, salts }), {
      validitySeconds: this.options.validFor,
    });
    const chunk: ChunkRecord = { first, count, salts, nonce: signed.nonce, deadline: signed.deadline, signature: signed.signature };
    this.state.add(chunk);
    return chunk;
  }

  /**
   * Brings a stored chunk to its outcome: posts it as stored; once its deadline leaves the service
   * no room to accept it, asks whether it was accepted, and signs it again under a new nonce only
   * if it never was (it can then never be accepted under the old one: nothing applies twice).
   */
  async settle(chunk: ChunkRecord): Promise<ChunkOutcome> {
    const number = this.state.chunks.indexOf(chunk);
    const events = this.events(chunk);
    for (;;) {
      if (!stillAcceptable(this.service, chunk.deadline)) {
        const known = await askSubmission(this.service, this.wallet.address, chunk.nonce);
        if (known) return this.record(chunk, accepted(200, known, events));
        await this.signAgain(chunk, events);
      }
      crashPoint("signed", number);
      const answer = await post(this.service, submissionOf(chunk, events), this.options.onPushback);
      crashPoint("posted", number);
      if (isAccepted(answer)) return this.record(chunk, accepted(answer.status, answer.body as SubmissionResult, events));
      if (isPushback(answer)) continue; // pushed back until its deadline left no room: signed again above
      return this.record(chunk, chunkRefusal(answer));
    }
  }

  /** The chunk's events, rebuilt from the file with the salts stored for it: the same events it was signed over. */
  events(chunk: Pick<ChunkRecord, "first" | "count" | "salts">): StatusEvent[] {
    return this.lines.slice(chunk.first, chunk.first + chunk.count).map(({ line, kind, fields, built }) => {
      const salt = chunk.salts[String(line)];
      return salt ? buildEvent(kind, { ...fields, salt }).event : built.event;
    });
  }

  private async signAgain(chunk: ChunkRecord, events: StatusEvent[]): Promise<void> {
    const signed = await signEvents(this.wallet, this.service.domain, events, { validitySeconds: this.options.validFor });
    chunk.expired = [...(chunk.expired ?? []), chunk.nonce];
    Object.assign(chunk, { nonce: signed.nonce, deadline: signed.deadline, signature: signed.signature });
    this.state.save();
  }

  private record(chunk: ChunkRecord, outcome: ChunkOutcome): ChunkOutcome {
    chunk.outcome = outcome;
    this.state.save();
    return outcome;
  }
}

const submissionOf = (chunk: ChunkRecord, events: StatusEvent[]): Submission => ({
  nonce: chunk.nonce,
  deadline: chunk.deadline,
  signature: chunk.signature,
  events,
});

/** An accepted chunk's outcome, with each event's resulting index (a re-issue applies two events: the new index is the second). */
function accepted(status: number, result: Pick<SubmissionResult, "batch" | "seq" | "intakeBlock" | "applied">, events: StatusEvent[]) {
  let at = 0;
  const indexes = events.map((event) => {
    at += appliedEventCount(event.kind);
    return result.applied[at - 1].record.index;
  });
  return { status, batch: result.batch, seq: result.seq, intakeBlock: result.intakeBlock, indexes };
}

/** A refusal of the chunk's events, to record; a refusal of the whole run (its key, domain, clock, the service) is thrown: the run stops, resumable. */
function chunkRefusal(answer: SubmitAnswer): ChunkOutcome {
  const { message, serviceCode } = refusal(answer);
  const code = serviceCode ?? `HTTP_${answer.status}`;
  if (answer.status >= 500 || RUN_REFUSALS.has(code))
    throw new CliError("REFUSED", `${message} (the run stopped: run the same command again to resume once this is fixed)`, code);
  return { status: answer.status, code, message: answer.body.message ?? "" };
}
