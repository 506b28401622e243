import { deadlineIn, signSubmission, type Hex, type RegistryDomain, type StatusEvent, type TypedDataSigner } from "../core";
import type { ErrorBody, SubmissionResult } from "../wire";

/** The service's answer to a submission: 202 (200 for a resend) with what was applied, or 4xx/5xx with code and message. */
export interface SubmitAnswer {
  status: number;
  body: Partial<SubmissionResult> & Partial<ErrorBody>;
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
  const { nonce, events, validitySeconds = DEFAULT_VALIDITY_SECONDS } = request;
  const signed = await signSubmission(wallet, domain, { nonce, deadline: deadlineIn(validitySeconds), events });
  const response = await fetch(`${serviceUrl}/v1/submissions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(signed),
  });
  return { status: response.status, body: (await response.json()) as SubmitAnswer["body"] };
}
