import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { blankEvent, recoverSubmitter, type Hex, type StatusEvent, type Submission } from "../../core";
import type { Services } from "../app";
import { ApiError, toApiError } from "../errors";
import { ErrorBody, SubmissionBody, SubmissionResult } from "../schemas";

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
        const submission: Submission = {
          nonce: request.body.nonce.toLowerCase() as Hex,
          signature: request.body.signature as Hex,
          events: request.body.events.map(normalisedEvent),
        };
        try {
          const signer = recoverSubmitter(services.domain, submission, services.hasher);
          const roles = await services.roles.rolesOf(signer);
          if (!roles.issuer && !roles.operator)
            throw new ApiError("ROLE_REQUIRED", 403, `${signer} holds neither ISSUER_ROLE nor OPERATOR_ROLE on the registry`);
          const backlog = await services.store.backlog();
          if (backlog >= services.limits.maxBacklog) {
            throw new ApiError("QUEUE_FULL", 503, `${backlog} submissions wait for anchoring; retry later`, 5);
          }
          const { entry, duplicate } = await services.store.accept(signer, roles, submission);
          if (!duplicate) services.metrics.eventsAccepted.inc(entry.applied.length);
          const body = {
            seq: entry.seq,
            batch: entry.batch,
            signer: entry.signer,
            duplicate,
            applied: entry.applied.map(({ kind, record }) => ({ kind, record })),
          };
          return reply.status(duplicate ? 200 : 202).send(body);
        } catch (error) {
          const apiError = toApiError(error);
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
