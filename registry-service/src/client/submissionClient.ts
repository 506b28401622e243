import { hexlify, randomBytes } from "ethers";
import {
  deadlineIn,
  domainHash,
  signSubmission,
  type Hex,
  type RegistryDomain,
  type StatusEvent,
  type Submission,
  type TypedDataSigner,
} from "../core";
import type { DomainAnswer, ErrorBody, SubmissionResult, SubmissionStatus } from "../wire";

export type { DomainAnswer, SubmissionResult, SubmissionStatus };

/** The service's answer to a submission: 202 (200 for a resend) with what was applied, or 4xx/5xx with code and message. */
export interface SubmitAnswer {
  status: number;
  body: Partial<SubmissionResult> & Partial<ErrorBody>;
  /** the Retry-After of a 429 or 503: when the service wants the same submission again */
  retryAfterSeconds?: number;
}

/** How long a signed submission stays valid by default: ample for the service to anchor it, short for a replay. */
export const DEFAULT_VALIDITY_SECONDS = 3600;

/**
 * The signed-submission client of issuers and operators: signs one submission (EIP-712) valid for
 * `validitySeconds` and posts it to the service.
 */
export async function submitSigned(
  serviceUrl: string,
  wallet: TypedDataSigner,
  domain: RegistryDomain,
  request: { nonce: Hex; events: StatusEvent[]; validitySeconds?: number },
): Promise<SubmitAnswer> {
  const signed = await signEvents(wallet, domain, request.events, request);
  return postSubmission(serviceUrl, domain, signed);
}

/** Signs `events` under `nonce` (default: 32 random bytes, unique per signer) with a deadline `validitySeconds` ahead. */
export function signEvents(
  wallet: TypedDataSigner,
  domain: RegistryDomain,
  events: StatusEvent[],
  options: { nonce?: Hex; validitySeconds?: number } = {},
): Promise<Submission> {
  const { nonce = hexlify(randomBytes(32)) as Hex, validitySeconds = DEFAULT_VALIDITY_SECONDS } = options;
  return signSubmission(wallet, domain, { nonce, deadline: deadlineIn(validitySeconds), events });
}

/**
 * Posts a signed submission, with the hash of the domain it was signed for (a wrong domain is then
 * answered DOMAIN_MISMATCH). Posting the same signed submission again is a resend: answered 200
 * with the first result, never applied twice.
 */
export async function postSubmission(serviceUrl: string, domain: RegistryDomain, signed: Submission): Promise<SubmitAnswer> {
  const response = await fetch(`${serviceUrl}/v1/submissions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...signed, domainHash: domainHash(domain) }),
  });
  const retryAfter = Number(response.headers.get("retry-after") ?? Number.NaN);
  const answer: SubmitAnswer = { status: response.status, body: (await response.json()) as SubmitAnswer["body"] };
  return Number.isFinite(retryAfter) ? { ...answer, retryAfterSeconds: retryAfter } : answer;
}

/** The domain a service's registry signs for (GET /v1/domain), as signSubmission takes it, and the rest of its answer. */
export async function fetchDomain(serviceUrl: string): Promise<{ domain: RegistryDomain; answer: DomainAnswer }> {
  const response = await fetch(`${serviceUrl}/v1/domain`);
  if (!response.ok) throw new Error(`${serviceUrl}/v1/domain answered ${response.status}`);
  const answer = (await response.json()) as DomainAnswer;
  return { domain: { chainId: BigInt(answer.chainId), verifyingContract: answer.registry }, answer };
}

/** Where the submission of (signer, nonce) stands, or undefined when the service never accepted it. */
export async function submissionStatus(serviceUrl: string, signer: Hex, nonce: Hex): Promise<SubmissionStatus | undefined> {
  const response = await fetch(`${serviceUrl}/v1/submissions/${signer}/${nonce}`);
  if (response.status === 404) return undefined;
  if (!response.ok) throw new Error(`${serviceUrl}/v1/submissions answered ${response.status}`);
  return (await response.json()) as SubmissionStatus;
}
