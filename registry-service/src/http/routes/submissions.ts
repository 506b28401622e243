import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import {
  blankEvent,
  holdsAnySubmitterRole,
  recoverSubmitter,
  SUBMITTER_ROLES,
  type Hex,
  type StatusEvent,
  type Submission,
} from "../../core";
import { nativePublicKeyRecovery } from "../../accel";
import { ApiError, toApiError } from "../../readApi";
import { ErrorBody, SubmissionBody, SubmissionResult } from "../../wire";
import { serviceApiError } from "../errors";
import type { Services } from "../services";

/** Signed intake for issuers (issue, suspend, reinstate, revoke) and telecom operators (lock). */
export const submissionRoutes =
  (services: Services): FastifyPluginAsyncTypebox =>
  async (app) => {
    const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 413: ErrorBody, 503: ErrorBody };
    app.post(
      "/submissions",
      {
        schema: {
          tags: ["issuer", "operator"],
          summary: "Submit EIP-712 signed events (one or many); the reply comes once they are durably journalled",
          body: SubmissionBody,
          response: { 200: SubmissionResult, 202: SubmissionResult, ...errors },
        },
      },
      async (request, reply) => {
        // Fastify's type provider (typebox 1) cannot see the Hex type the wire schema gives its strings
        const body = request.body as SubmissionBody;
        const submission: Submission = {
          nonce: body.nonce.toLowerCase() as Hex,
          signature: body.signature,
          events: body.events.map(normalisedEvent),
        };
        try {
          services.intake.precheck(submission); // before any signature work
          const signer = recoverSubmitter(services.domain, submission, services.hasher, nativePublicKeyRecovery);
          const roles = await services.roles.rolesOf(signer);
          if (!holdsAnySubmitterRole(roles)) {
            throw new ApiError(
              "ROLE_REQUIRED",
              403,
              `${signer} holds none of ${Object.values(SUBMITTER_ROLES).join(", ")} on the registry`,
            );
          }
          const { entry, duplicate } = await services.intake.accept(signer, roles, submission);
          if (!duplicate) services.metrics.eventsAccepted.inc(entry.applied.length);
          const result = {
            seq: entry.seq,
            batch: entry.batch,
            signer: entry.signer,
            duplicate,
            applied: entry.applied.map(({ kind, record }) => ({ kind, record })),
          };
          return reply.status(duplicate ? 200 : 202).send(result);
        } catch (error) {
          const apiError = toApiError(error, serviceApiError);
          services.metrics.submissionsRefused.inc({ code: apiError.code });
          throw apiError;
        }
      },
    );
  };

/**
 * The event with every omitted field zero and hashes in lower case: bindings are looked up by
 * these strings, so "0xAB.." and "0xab.." must name the same device (the signature covers bytes).
 */
function normalisedEvent(body: SubmissionBody["events"][number]): StatusEvent {
  const event = { ...blankEvent(body.kind), ...body } as StatusEvent;
  event.holderRef = event.holderRef.toLowerCase() as Hex;
  event.credentialCommitment = event.credentialCommitment.toLowerCase() as Hex;
  event.deviceKeyHash = event.deviceKeyHash.toLowerCase() as Hex;
  return event;
}
