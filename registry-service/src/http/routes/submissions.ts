import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import {
  blankEvent,
  domainHash,
  holdsAnySubmitterRole,
  isPriority,
  PUBLISHER_ROLE_NAME,
  recoverSubmitter,
  roleId,
  SUBMISSION_TYPES,
  SUBMITTER_ROLES,
  typedDataDomain,
  type Hex,
  checkLockGrants,
  type StatusEvent,
  type Submission,
} from "../../core";
import { nativePublicKeyRecovery } from "../../accel";
import { laneRoom } from "../../intake";
import { ApiError, toApiError } from "../../readApi";
import { DomainAnswer, ErrorBody, SubmissionBody, SubmissionResult } from "../../wire";
import { serviceApiError } from "../errors";
import type { Services } from "../services";

const errors = Object.fromEntries([400, 401, 403, 404, 409, 413, 429, 503].map((status) => [status, ErrorBody]));
const schema = {
  tags: ["issuer", "operator"],
  summary: "Submit EIP-712 signed events (one or many); the reply comes once they are durably journalled",
  body: SubmissionBody,
  response: { 200: SubmissionResult, 202: SubmissionResult, ...errors },
};

const domainSchema = {
  tags: ["issuer", "operator"],
  summary: "The EIP-712 domain and types a submission is signed for, the registry and its roles",
  response: { 200: DomainAnswer },
};

/** Signed intake for issuers (issue, re-issue, suspend, reinstate, revoke) and telecom operators (lock), and what a client signs for. */
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
    const domain = domainAnswer(services);
    app.get("/domain", { schema: domainSchema }, async () => domain);
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
        const { entry, duplicate } = await accept(services, domain, countSigner, request.body as SubmissionBody);
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
async function accept(services: Services, domain: DomainAnswer, countSigner: (signer: Hex) => Promise<void>, body: SubmissionBody) {
  const submission: Submission = {
    nonce: body.nonce.toLowerCase() as Hex,
    deadline: body.deadline,
    signature: body.signature,
    events: body.events.map(normalisedEvent),
  };
  checkDomain(domain, body.domainHash);
  services.intake.precheck(submission); // before any signature work
  const signer = recoverSubmitter(services.domain, submission, services.hasher, nativePublicKeyRecovery);
  await countSigner(signer);
  // a lock, suspension or revocation goes on with the roles last read while the chain cannot be read
  const check = services.roles.rolesNow(signer, isPriority(submission.events));
  if (!holdsAnySubmitterRole(check.roles)) {
    const roles = Object.values(SUBMITTER_ROLES).join(", ");
    // a signature for another domain recovers to a random address: say where to look
    const hint = "if you signed for another chain or registry, GET /v1/domain and send its domainHash";
    throw new ApiError("ROLE_REQUIRED", 403, `${signer} holds none of ${roles} on the registry at block ${check.block} (${hint})`);
  }
  // only the operator the device granted its lock to may lock it, within that operator's lock rate
  checkLockGrants(services.domain, signer, submission);
  services.lockRate.count(signer, submission.events);
  return services.intake.accept(signer, check, submission);
}

/** What GET /v1/domain answers: fixed for the life of the process. */
function domainAnswer({ domain, view, intake }: Services): DomainAnswer {
  const chainId = Number(domain.chainId);
  const roleNames = [...Object.values(SUBMITTER_ROLES), PUBLISHER_ROLE_NAME];
  return {
    eip712: { ...typedDataDomain(domain), chainId } as DomainAnswer["eip712"],
    domainHash: domainHash(domain),
    types: SUBMISSION_TYPES,
    primaryType: "Submission",
    registry: domain.verifyingContract.toLowerCase() as Hex,
    chainId,
    depth: view.tree.depth,
    roles: Object.fromEntries(roleNames.map((name) => [name, roleId(name)])),
    deadlineWindowSeconds: { min: intake.policy.minDeadlineSeconds, max: intake.policy.maxDeadlineSeconds },
    submissionLimits: { regular: laneRoom(intake.policy, false), priority: laneRoom(intake.policy, true) },
  };
}

/** A client that says which domain it signed for is told at once when it is not this one (`domain`: GET /v1/domain's answer, computed once). */
function checkDomain(domain: DomainAnswer, claimed: Hex | undefined): void {
  if (claimed === undefined || claimed.toLowerCase() === domain.domainHash) return;
  const { name, version, chainId } = domain.eip712;
  const expected = `{ name: "${name}", version: "${version}", chainId: ${chainId}, verifyingContract: ${domain.registry} }`;
  throw new ApiError(
    "DOMAIN_MISMATCH",
    400,
    `signed for domain ${claimed}; this registry's is ${domain.domainHash}: ${expected} (GET /v1/domain)`,
  );
}

/**
 * The event with every omitted field zero and hashes in lower case: bindings are looked up by
 * these strings, so "0xAB.." and "0xab.." must name the same device (the signature covers bytes).
 */
function normalisedEvent(body: SubmissionBody["events"][number]): StatusEvent {
  const event = { ...blankEvent(body.kind), ...body } as StatusEvent;
  event.credentialCommitment = event.credentialCommitment.toLowerCase() as Hex;
  event.deviceKeyHash = event.deviceKeyHash.toLowerCase() as Hex;
  event.grant = event.grant.toLowerCase() as Hex;
  return event;
}
