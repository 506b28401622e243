import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Services } from "../services";

/** Liveness, readiness and Prometheus metrics. */
export const operationsRoutes =
  (services: Services): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.get("/health", { schema: { tags: ["operations"], response: { 200: Type.Object({ status: Type.Literal("ok") }) } } }, async () => ({
      status: "ok" as const,
    }));
    app.get(
      "/ready",
      {
        schema: {
          tags: ["operations"],
          response: { 200: Type.Object({ ready: Type.Boolean() }), 503: Type.Object({ ready: Type.Boolean() }) },
        },
      },
      async (_request, reply) => reply.status(services.ready() ? 200 : 503).send({ ready: services.ready() }),
    );
    app.get("/metrics", { schema: { tags: ["operations"], hide: true } }, async (_request, reply) =>
      reply.type(services.metrics.registry.contentType).send(await services.metrics.registry.metrics()),
    );
  };
