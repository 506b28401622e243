import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";

const Readiness = Type.Object({ ready: Type.Boolean() });

/** GET /ready: 200 while `ready()` holds, else 503, so a load balancer routes around a server that cannot answer truly. */
export const readinessRoute =
  (ready: () => boolean): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.get("/ready", { schema: { tags: ["operations"], response: { 200: Readiness, 503: Readiness } } }, async (_request, reply) => {
      const now = ready();
      return reply.status(now ? 200 : 503).send({ ready: now });
    });
  };
