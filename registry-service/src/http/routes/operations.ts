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
    // never ready once intake stopped: a load balancer must not send submissions that cannot be anchored
    await app.register(readinessRoute(() => services.ready() && !services.intake.halted));
    app.get("/metrics", { schema: { tags: ["operations"], hide: true } }, async (_request, reply) =>
      reply.type(services.metrics.registry.contentType).send(await services.metrics.registry.metrics()),
    );
  };
