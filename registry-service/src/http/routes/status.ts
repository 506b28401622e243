import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { emptyRecord, type StatusRecord } from "../../core";
import type { Services } from "../app";
import { ApiError } from "../errors";
import { ErrorBody, StatusResult } from "../schemas";

const MAX_QUERY = 1000;

/** Public, rate-limited reads for verifiers: status with its proof against the ANCHORED root. */
export const statusRoutes =
  (services: Services): FastifyPluginAsyncTypebox =>
  async (app) => {
    const { anchorer, store } = services;
    const depth = anchorer.tree.depth;

    /** One consistent read of the anchored view (see Anchorer.version), plus the pending record. */
    async function statusOf(index: number) {
      if (index >= 2 ** depth) throw new ApiError("NOT_FOUND", 404, `index ${index} is outside this registry's 2^${depth} slots`);
      for (;;) {
        const version = anchorer.version;
        const [anchoredRecord, current] = await Promise.all([store.anchoredRecord(index), store.record(index)]);
        if (version % 2 !== 0 || version !== anchorer.version) continue; // a batch landed meanwhile
        const record: StatusRecord = anchoredRecord ?? emptyRecord(index);
        const anchored = anchorer.anchored;
        return {
          index,
          anchored: {
            record,
            proof: anchorer.tree.prove(index),
            anchor: {
              batch: anchored?.batch ?? 0,
              statusRoot: anchorer.tree.root,
              transactionHash: anchored?.transactionHash ?? null,
              blockNumber: anchored?.blockNumber ?? null,
            },
          },
          pending: current && current.batch > (anchored?.batch ?? 0) ? current : null,
        };
      }
    }

    const limit = { max: services.limits.verifierRequestsPerMinute, timeWindow: "1 minute" };
    app.get(
      "/status/:index",
      {
        config: { rateLimit: limit },
        schema: {
          tags: ["verifier"],
          summary: "Status of one index with its proof against the latest anchored root, and any pending change",
          // path parameters are strings; the body schemas stay strict (no type coercion anywhere)
          params: Type.Object({ index: Type.String({ pattern: "^[0-9]{1,16}$", description: "status index" }) }),
          response: { 200: StatusResult, 400: ErrorBody, 404: ErrorBody, 429: ErrorBody },
        },
      },
      async (request) => {
        const timer = services.metrics.proofSeconds.startTimer();
        try {
          return await statusOf(Number(request.params.index));
        } finally {
          timer();
        }
      },
    );

    app.post(
      "/status/query",
      {
        config: { rateLimit: limit },
        schema: {
          tags: ["verifier"],
          summary: `Statuses of up to ${MAX_QUERY} indexes in one request`,
          body: Type.Object({ indexes: Type.Array(Type.Integer({ minimum: 0 }), { minItems: 1, maxItems: MAX_QUERY }) }, { additionalProperties: false }),
          response: { 200: Type.Object({ results: Type.Array(StatusResult) }), 400: ErrorBody, 404: ErrorBody, 429: ErrorBody },
        },
      },
      async (request) => ({ results: await Promise.all(request.body.indexes.map(statusOf)) }),
    );
  };
