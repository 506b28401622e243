import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Histogram } from "prom-client";
import { ErrorBody, StatusAnswer } from "../wire";
import { ApiError } from "./errors";
import type { StatusReader } from "./statusReader";

const MAX_QUERY = 1000;

/** Public, rate-limited reads for verifiers: status with its proof against the ANCHORED root. */
export const statusRoutes =
  (reader: StatusReader, options: { requestsPerMinute: number; proofSeconds?: Histogram }): FastifyPluginAsyncTypebox =>
  async (app) => {
    const statusOf = (index: number) => {
      if (index >= 2 ** reader.depth)
        throw new ApiError("NOT_FOUND", 404, `index ${index} is outside this registry's 2^${reader.depth} slots`);
      return reader.statusOf(index);
    };

    const limit = { max: options.requestsPerMinute, timeWindow: "1 minute" };
    app.get(
      "/status/:index",
      {
        config: { rateLimit: limit },
        schema: {
          tags: ["verifier"],
          summary: "Status of one index with its proof against the latest anchored root, and any pending change",
          // path parameters are strings; the body schemas stay strict (no type coercion anywhere)
          params: Type.Object({ index: Type.String({ pattern: "^[0-9]{1,16}$", description: "status index" }) }),
          response: { 200: StatusAnswer, 400: ErrorBody, 404: ErrorBody, 429: ErrorBody },
        },
      },
      async (request) => {
        const timer = options.proofSeconds?.startTimer();
        try {
          return await statusOf(Number(request.params.index));
        } finally {
          timer?.();
        }
      },
    );

    const queryLimit = weightedBySize(limit);
    app.post(
      "/status/query",
      {
        config: { rateLimit: queryLimit },
        schema: {
          tags: ["verifier"],
          summary: `Statuses of up to ${MAX_QUERY} indexes in one request`,
          body: Type.Object(
            { indexes: Type.Array(Type.Integer({ minimum: 0 }), { minItems: 1, maxItems: MAX_QUERY }) },
            { additionalProperties: false },
          ),
          response: { 200: Type.Object({ results: Type.Array(StatusAnswer) }), 400: ErrorBody, 404: ErrorBody, 429: ErrorBody },
        },
      },
      async (request) => ({ results: await Promise.all(request.body.indexes.map(statusOf)) }),
    );
  };

/**
 * The query route's limit, weighted by its size: a client may ask about `limit.max` indexes a
 * minute, one at a time or in queries. Checked once the body is parsed; an n-index query may be
 * sent limit.max / n times a minute.
 */
function weightedBySize(limit: { max: number; timeWindow: string }) {
  return {
    ...limit,
    hook: "preHandler" as const,
    max: async (request: { body?: unknown }) => {
      const size = (request.body as { indexes?: unknown[] } | undefined)?.indexes?.length ?? 1;
      return Math.max(1, Math.floor(limit.max / size));
    },
  };
}
