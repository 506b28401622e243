import { Option, type Command } from "commander";
import type { Hex, RegistryDomain, Submission } from "../../core";
import {
  fetchDomain,
  postSubmission,
  submissionStatus,
  type DomainAnswer,
  type SubmissionStatus,
  type SubmitAnswer,
} from "../../client/submissionClient";
import { CliError } from "../errors";
import { sleep } from "../options";

export const DEFAULT_SERVICE = "http://127.0.0.1:8080";

/** --service: the registry service a writer posts to (env MOBILE_ID_SERVICE). */
export const serviceOption = (command: Command): Command =>
  command.addOption(new Option("--service <url>", "the registry service").env("MOBILE_ID_SERVICE").default(DEFAULT_SERVICE));

/** The service and what it signs for (GET /v1/domain): chain, registry, deadline window, submission limits. */
export interface Service {
  url: string;
  domain: RegistryDomain;
  answer: DomainAnswer;
}

export async function connectService(url: string): Promise<Service> {
  const base = url.replace(/\/+$/, "");
  try {
    return { url: base, ...(await fetchDomain(base)) };
  } catch (error) {
    throw new CliError("UNREACHABLE", `the service at ${base} does not answer GET /v1/domain: ${(error as Error).message}`);
  }
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * True while the service would still accept a submission with this deadline (it must lie at least
 * its window's minimum ahead), `afterSeconds` from now. Once false, a submission the service never
 * accepted can never be accepted any more, and signing its events again cannot apply them twice.
 */
export function stillAcceptable(service: Service, deadline: number, afterSeconds = 0): boolean {
  return deadline >= nowSeconds() + afterSeconds + service.answer.deadlineWindowSeconds.min;
}

/**
 * Posts a signed submission; while the service pushes back (429, or 503 with Retry-After: a full
 * queue, the chain's roles unread) it is sent again, the same bytes, after the time it asks for, as
 * long as its deadline leaves room. A resend is answered with the first result, never applied twice.
 */
export async function post(service: Service, signed: Submission, onWait?: (answer: SubmitAnswer, seconds: number) => void) {
  for (;;) {
    const answer = await postOnce(service, signed);
    const seconds = retryDelay(answer);
    if (seconds === undefined || !stillAcceptable(service, signed.deadline, seconds)) return answer;
    onWait?.(answer, seconds);
    await sleep(seconds * 1000);
  }
}

async function postOnce(service: Service, signed: Submission): Promise<SubmitAnswer> {
  try {
    return await postSubmission(service.url, service.domain, signed);
  } catch (error) {
    throw new CliError("UNREACHABLE", `the service at ${service.url} does not answer POST /v1/submissions: ${(error as Error).message}`);
  }
}

/** The service asks for the same submission later (429, or 503 with Retry-After): it took nothing. */
export const isPushback = (answer: SubmitAnswer) =>
  answer.status === 429 || (answer.status === 503 && answer.retryAfterSeconds !== undefined);

/** Seconds to wait before the same submission is worth sending again, or undefined when the answer is final. */
function retryDelay(answer: SubmitAnswer): number | undefined {
  return isPushback(answer) ? Math.max(1, answer.retryAfterSeconds ?? 1) : undefined;
}

export const isAccepted = (answer: SubmitAnswer) => answer.status === 200 || answer.status === 202;

/** The service's no as the CLI's error: exit 1, with its code and message. */
export function refusal(answer: SubmitAnswer): CliError {
  const code = answer.body.code ?? `HTTP_${answer.status}`;
  return new CliError("REFUSED", `refused: ${answer.status} ${code}: ${answer.body.message ?? "no message"}`, code);
}

/** Where the submission of (signer, nonce) stands, or undefined when the service never accepted it. */
export async function askSubmission(service: { url: string }, signer: string, nonce: string): Promise<SubmissionStatus | undefined> {
  try {
    return await submissionStatus(service.url, signer.toLowerCase() as Hex, nonce.toLowerCase() as Hex);
  } catch (error) {
    throw new CliError("UNREACHABLE", `the service at ${service.url} does not answer GET /v1/submissions: ${(error as Error).message}`);
  }
}

/** Polls the submission until it is anchored; refuses when the service does not know it, or its deadline passed unanchored. */
export async function waitAnchored(service: { url: string }, signer: string, nonce: string, pollMs = 250): Promise<SubmissionStatus> {
  for (;;) {
    const status = await askSubmission(service, signer, nonce);
    if (!status) throw new CliError("REFUSED", `the service never accepted submission ${nonce} of ${signer}`, "NOT_FOUND");
    if (status.state === "anchored") return status;
    if (nowSeconds() > status.deadline)
      throw new CliError("REFUSED", `submission ${nonce} is ${status.state}, not anchored, and its deadline has passed`, "DEADLINE_PASSED");
    await sleep(pollMs);
  }
}
