import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { readinessRoute } from "../../readApi";
import type { Services } from "../services";

/** Liveness, readiness and Prometheus metrics. */
export const operationsRoutes =
  (services: Services): FastifyPluginAsyncTypebox =>
  async (app) => {
    const health = { schema: { tags: ["operations"], response: { 200: Type.Object({ status: Type.Literal("ok") }) } } };
    app.get("/health", health, async () => ({ status: "ok" as const }));
    await app.register(readinessRoute(services.ready));
    app.get("/metrics", { schema: { tags: ["operations"], hide: true } }, async (_request, reply) =>
      reply.type(services.metrics.registry.contentType).send(await services.metrics.registry.metrics()),
    );
  };
