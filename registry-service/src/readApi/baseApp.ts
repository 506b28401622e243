import Fastify, { LogController, type FastifyBaseLogger } from "fastify";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import rateLimit from "@fastify/rate-limit";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { toApiError, type ErrorMapping } from "./errors";

export interface BaseAppOptions {
  title: string;
  /** where the server logs its 5xx answers with their causes; none when absent */
  logger?: FastifyBaseLogger;
  bodyLimit?: number;
  /** the server's own layers' errors (intake, anchoring) as API errors */
  errors?: ErrorMapping;
}

/** Fastify with the API's conventions: strict schemas, one error shape, OpenAPI at /docs, rate limits. */
export async function baseApp(options: BaseAppOptions) {
  const app = Fastify({
    loggerInstance: options.logger,
    // no line per request at info (the metrics count them; the service adds one at debug); a 5xx is logged below
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit,
    // reject unknown fields instead of silently dropping them (Fastify's default removes them)
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setErrorHandler((error, request, reply) => {
    const apiError = toApiError(error, options.errors);
    // a refusal (4xx) is the client's business; a 5xx is ours, logged with its cause: a fault (500)
    // as an error, a deliberate pushback (503 with Retry-After) as a warning without the stack
    if (apiError.statusCode >= 500) {
      const pushback = apiError.retryAfterSeconds !== undefined;
      const fields = { err: pushback ? undefined : error, code: apiError.code, cause: pushback ? apiError.message : undefined };
      request.log[pushback ? "warn" : "error"](fields, `answered ${apiError.statusCode} ${apiError.code}`);
    }
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

export type BaseApp = Awaited<ReturnType<typeof baseApp>>;
