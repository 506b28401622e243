import Fastify from "fastify";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import rateLimit from "@fastify/rate-limit";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { Hasher, RegistryDomain } from "../core";
import type { Anchorer } from "../batching/anchorer";
import type { Roles } from "../chain/roleCache";
import type { RegistryStore } from "../storage/registryStore";
import type { Hex } from "../core";
import { toApiError } from "./errors";
import type { Metrics } from "./metrics";
import { submissionRoutes } from "./routes/submissions";
import { statusRoutes } from "./routes/status";
import { anchoredStatusReader } from "./statusReader";
import { operationsRoutes } from "./routes/operations";
import { batchRoutes } from "./routes/batches";

/** What the routes use; the process (server.ts) or a test builds them. */
export interface Services {
  store: RegistryStore;
  anchorer: Anchorer;
  hasher: Hasher;
  roles: { rolesOf(account: Hex): Promise<Roles> };
  domain: RegistryDomain;
  metrics: Metrics;
  limits: { maxBacklog: number; bodyLimitBytes: number; verifierRequestsPerMinute: number };
  /** readiness: the chain answered recently */
  ready(): boolean;
}

/** Wires plugins and routes; owns nothing but the HTTP concerns. */
export async function buildApp(services: Services, options: { logger?: boolean } = {}) {
  const app = await baseApp({ title: "Mobile-ID status registry", logger: options.logger, bodyLimit: services.limits.bodyLimitBytes });
  await app.register(submissionRoutes(services), { prefix: "/v1" });
  const reader = anchoredStatusReader(services.anchorer, services.store);
  await app.register(
    statusRoutes(reader, { requestsPerMinute: services.limits.verifierRequestsPerMinute, proofSeconds: services.metrics.proofSeconds }),
    { prefix: "/v1" },
  );
  await app.register(batchRoutes(services, services.hasher), { prefix: "/v1" });
  await app.register(operationsRoutes(services));
  services.metrics.watchBacklog(() => services.store.backlog());
  return app;
}

/** Fastify with the API's conventions: strict schemas, one error shape, OpenAPI at /docs, rate limits. */
export async function baseApp(options: { title: string; logger?: boolean; bodyLimit?: number }) {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit,
    // reject unknown fields instead of silently dropping them (Fastify's default removes them)
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setErrorHandler((error, request, reply) => {
    const apiError = toApiError(error);
    if (apiError.statusCode >= 500) request.log.error(error);
    if (apiError.retryAfterSeconds) reply.header("retry-after", apiError.retryAfterSeconds);
    return reply.status(apiError.statusCode).send({ code: apiError.code, message: apiError.message });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ code: "NOT_FOUND", message: `no route ${request.method} ${request.url}` }),
  );

  await app.register(swagger, {
    openapi: {
      info: { title: options.title, version: "1" },
      tags: [{ name: "issuer" }, { name: "operator" }, { name: "verifier" }, { name: "auditor" }, { name: "operations" }],
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });
  await app.register(rateLimit, { global: false });
  return app;
}
