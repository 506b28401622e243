import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { EventTree, type AppliedEvent, type Hasher } from "../../core";
import type { Services } from "../app";
import { ApiError } from "../errors";
import { Address, ErrorBody, EventBody, Hex32, Hex65, StatusRecordSchema } from "../schemas";

const Uint = Type.Integer({ minimum: 0 });
const BatchSummary = Type.Object({
  batch: Uint,
  state: Type.Union([Type.Literal("prepared"), Type.Literal("anchored")]),
  previousRoot: Hex32,
  statusRoot: Hex32,
  eventRoot: Hex32,
  eventCount: Uint,
  eventDataHash: Hex32,
  transactionHash: Type.Union([Hex32, Type.Null()]),
  blockNumber: Type.Union([Uint, Type.Null()]),
});
const AppliedSchema = Type.Object({ position: Uint, kind: Uint, signer: Address, nonce: Hex32, record: StatusRecordSchema });
const BatchParams = Type.Object({ batch: Type.String({ pattern: "^[0-9]{1,12}$" }) });

/** Read-only views for auditors: batches, their signed submissions, and event receipts. */
export const batchRoutes =
  (services: Services, hasher: Hasher): FastifyPluginAsyncTypebox =>
  async (app) => {
    const { store } = services;
    const summary = (r: Awaited<ReturnType<typeof store.batchRecord>> & object) => ({
      batch: r.batch,
      state: r.state,
      previousRoot: r.previousRoot,
      statusRoot: r.statusRoot,
      eventRoot: r.eventRoot,
      eventCount: r.eventCount,
      eventDataHash: r.eventDataHash,
      transactionHash: r.transactionHash ?? null,
      blockNumber: r.blockNumber ?? null,
    });
    async function batchOf(param: string) {
      const batch = Number(param);
      const record = await store.batchRecord(batch);
      if (!record) throw new ApiError("NOT_FOUND", 404, `batch ${batch} has not been cut yet`);
      const entries = await store.entriesOf(batch);
      const applied: AppliedEvent[] = entries.flatMap((entry) => entry.applied).map((event, position) => ({ ...event, position }));
      return { record, entries, applied };
    }

    app.get(
      "/batches",
      {
        schema: {
          tags: ["auditor"],
          summary: "Cut batches, newest first",
          querystring: Type.Object(
            {
              before: Type.Optional(Type.String({ pattern: "^[0-9]{1,12}$" })),
              limit: Type.Optional(Type.String({ pattern: "^[0-9]{1,3}$" })),
            },
            { additionalProperties: false },
          ),
          response: { 200: Type.Object({ batches: Type.Array(BatchSummary) }), 400: ErrorBody },
        },
      },
      async (request) => {
        const limit = Math.min(100, Math.max(1, Number(request.query.limit ?? 20)));
        const before = request.query.before === undefined ? undefined : Number(request.query.before);
        const batches = [];
        for await (const record of store.batchRecords({ before, limit })) batches.push(summary(record));
        return { batches };
      },
    );

    app.get(
      "/batches/:batch",
      {
        schema: {
          tags: ["auditor"],
          summary: "One batch with its signed submissions and the events they applied",
          params: BatchParams,
          response: {
            200: Type.Object({
              batch: BatchSummary,
              submissions: Type.Array(Type.Object({ signer: Address, nonce: Hex32, signature: Hex65, events: Type.Array(EventBody) })),
              applied: Type.Array(AppliedSchema),
            }),
            400: ErrorBody,
            404: ErrorBody,
          },
        },
      },
      async (request) => {
        const { record, entries, applied } = await batchOf(request.params.batch);
        return {
          batch: summary(record),
          submissions: entries.map((entry) => ({ signer: entry.signer, ...entry.submission })),
          applied,
        };
      },
    );

    app.get(
      "/batches/:batch/receipts/:position",
      {
        schema: {
          tags: ["auditor", "verifier"],
          summary: "Proof that one event (e.g. a lost-phone lock) is in the batch's anchored event tree",
          params: Type.Object({ batch: BatchParams.properties.batch, position: Type.String({ pattern: "^[0-9]{1,9}$" }) }),
          response: {
            200: Type.Object({ event: AppliedSchema, leaf: Hex32, proof: Type.Array(Hex32), eventRoot: Hex32, batch: BatchSummary }),
            400: ErrorBody,
            404: ErrorBody,
          },
        },
      },
      async (request) => {
        const { record, applied } = await batchOf(request.params.batch);
        const position = Number(request.params.position);
        if (position >= applied.length) throw new ApiError("NOT_FOUND", 404, `batch ${record.batch} has ${applied.length} events`);
        const receipt = new EventTree(hasher, applied).receipt(position);
        return { event: applied[position], leaf: receipt.leaf, proof: receipt.proof, eventRoot: receipt.root, batch: summary(record) };
      },
    );
  };
