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
import { isPriority } from "../../intake";
import { ApiError, toApiError } from "../../readApi";
import { ErrorBody, SubmissionBody, SubmissionResult } from "../../wire";
import { serviceApiError } from "../errors";
import type { Services } from "../services";

const errors = Object.fromEntries([400, 401, 403, 404, 409, 413, 429, 503].map((status) => [status, ErrorBody]));
const schema = {
  tags: ["issuer", "operator"],
  summary: "Submit EIP-712 signed events (one or many); the reply comes once they are durably journalled",
  body: SubmissionBody,
  response: { 200: SubmissionResult, 202: SubmissionResult, ...errors },
};

/** Signed intake for issuers (issue, suspend, reinstate, revoke) and telecom operators (lock). */
export const submissionRoutes =
  (services: Services): FastifyPluginAsyncTypebox =>
  async (app) => {
    const rateLimit = { max: services.limits.clientSubmissionsPerMinute, timeWindow: "1 minute" };
    // the same limiter per signing key, asked once the key is known
    const signerOf = new WeakMap<object, Hex>();
    const signerLimit = app.createRateLimit({
      max: services.limits.signerSubmissionsPerMinute,
      timeWindow: 60_000,
      keyGenerator: (request) => `signer:${signerOf.get(request)}`,
    });
    app.post("/submissions", { config: { rateLimit }, schema }, async (request, reply) => {
      const countSigner = async (signer: Hex) => {
        signerOf.set(request, signer);
        const limit = await signerLimit(request);
        if (!limit.isAllowed && limit.isExceeded) {
          const message = `${signer} sent more than ${limit.max} submissions this minute; retry in ${limit.ttlInSeconds} s`;
          throw new ApiError("RATE_LIMITED", 429, message, limit.ttlInSeconds);
        }
      };
      try {
        // Fastify's type provider (typebox 1) cannot see the Hex type the wire schema gives its strings
        const { entry, duplicate } = await accept(services, countSigner, request.body as SubmissionBody);
        if (!duplicate) services.metrics.eventsAccepted.inc(entry.applied.length);
        const { seq, batch, signer, applied, submission } = entry;
        const result = {
          seq,
          batch,
          signer,
          duplicate,
          intakeBlock: submission.intakeBlock,
          applied: applied.map(({ kind, record }) => ({ kind, record })),
        };
        return reply.status(duplicate ? 200 : 202).send(result);
      } catch (error) {
        services.metrics.submissionsRefused.inc({ code: toApiError(error, serviceApiError).code });
        throw error; // the error handler maps it the same way, and logs a 5xx with this cause
      }
    });
  };

/** The cheap refusals first, then the signer, its rate and its roles, then intake. */
async function accept(services: Services, countSigner: (signer: Hex) => Promise<void>, body: SubmissionBody) {
  const submission: Submission = {
    nonce: body.nonce.toLowerCase() as Hex,
    deadline: body.deadline,
    signature: body.signature,
    events: body.events.map(normalisedEvent),
  };
  services.intake.precheck(submission); // before any signature work
  const signer = recoverSubmitter(services.domain, submission, services.hasher, nativePublicKeyRecovery);
  await countSigner(signer);
  // a lock, suspension or revocation goes on with the roles last read while the chain cannot be read
  const check = services.roles.rolesNow(signer, isPriority(submission.events));
  if (!holdsAnySubmitterRole(check.roles)) {
    const roles = Object.values(SUBMITTER_ROLES).join(", ");
    throw new ApiError("ROLE_REQUIRED", 403, `${signer} holds none of ${roles} on the registry at block ${check.block}`);
  }
  return services.intake.accept(signer, check, submission);
}

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
