import { signSubmission, type Hex, type RegistryDomain, type StatusEvent, type TypedDataSigner } from "../core";
import type { ErrorBody, SubmissionResult } from "../wire";

/** The service's answer to a submission: 202 (200 for a resend) with what was applied, or 4xx/5xx with code and message. */
export interface SubmitAnswer {
  status: number;
  body: Partial<SubmissionResult> & Partial<ErrorBody>;
}

/** The signed-submission client of issuers and operators: signs one submission (EIP-712) and posts it to the service. */
export async function submitSigned(
  serviceUrl: string,
  wallet: TypedDataSigner,
  domain: RegistryDomain,
  nonce: Hex,
  events: StatusEvent[],
): Promise<SubmitAnswer> {
  const signed = await signSubmission(wallet, domain, nonce, events);
  const response = await fetch(`${serviceUrl}/v1/submissions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(signed),
  });
  return { status: response.status, body: (await response.json()) as SubmitAnswer["body"] };
}
