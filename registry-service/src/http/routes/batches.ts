import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { LRUCache } from "lru-cache";
import { EventTree, positionedEvents, type AppliedEvent } from "../../core";
import type { BatchRecord, JournalEntry } from "../../journal";
import { ApiError } from "../../readApi";
import { AppliedEventSchema, BatchSummary, DecimalString, ErrorBody, EventBody, EventReceipt, Hex32, Hex65, Address } from "../../wire";
import type { Services } from "../services";

const BatchParams = Type.Object({ batch: DecimalString(12, "batch number") });

/** A cut batch's contents never change: its events and event tree are kept for the next receipt. */
interface BatchContents {
  entries: JournalEntry[];
  applied: AppliedEvent[];
  tree?: EventTree;
}
const CACHED_BATCHES = 8;

function summary(r: BatchRecord): BatchSummary {
  const { batch, state, previousRoot, statusRoot, eventRoot, eventCount, eventDataHash } = r;
  return {
    batch,
    state,
    previousRoot,
    statusRoot,
    eventRoot,
    eventCount,
    eventDataHash,
    transactionHash: r.transactionHash ?? null,
    blockNumber: r.blockNumber ?? null,
  };
}

/** Read-only views for auditors: batches, their signed submissions, and event receipts. */
export const batchRoutes =
  ({ journal, intake, hasher }: Services): FastifyPluginAsyncTypebox =>
  async (app) => {
    const cache = new LRUCache<number, BatchContents>({ max: CACHED_BATCHES });
    async function batchOf(param: string): Promise<{ record: BatchRecord; contents: BatchContents }> {
      const batch = Number(param);
      const record = await journal.batch(batch);
      if (!record) throw new ApiError("NOT_FOUND", 404, `batch ${batch} has not been cut yet`);
      let cached = cache.get(batch);
      if (!cached) {
        const entries = await intake.entriesOf(batch);
        cached = { entries, applied: positionedEvents(entries) };
        cache.set(batch, cached);
      }
      return { record, contents: cached };
    }

    app.get(
      "/batches",
      {
        schema: {
          tags: ["auditor"],
          summary: "Cut batches, newest first",
          querystring: Type.Object(
            { before: Type.Optional(DecimalString(12)), limit: Type.Optional(DecimalString(3)) },
            { additionalProperties: false },
          ),
          response: { 200: Type.Object({ batches: Type.Array(BatchSummary) }), 400: ErrorBody },
        },
      },
      async (request) => {
        const limit = Math.min(100, Math.max(1, Number(request.query.limit ?? 20)));
        const before = request.query.before === undefined ? undefined : Number(request.query.before);
        const batches = [];
        for await (const record of journal.batches({ before, limit })) batches.push(summary(record));
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
              applied: Type.Array(AppliedEventSchema),
            }),
            400: ErrorBody,
            404: ErrorBody,
          },
        },
      },
      async (request) => {
        const { record, contents } = await batchOf(request.params.batch);
        const { entries, applied } = contents;
        return { batch: summary(record), submissions: entries.map((entry) => ({ signer: entry.signer, ...entry.submission })), applied };
      },
    );

    app.get(
      "/batches/:batch/receipts/:position",
      {
        schema: {
          tags: ["auditor", "verifier"],
          summary: "Proof that one event (e.g. a lost-phone lock) is in the batch's anchored event tree",
          params: Type.Object({ batch: BatchParams.properties.batch, position: DecimalString(9, "event position") }),
          response: { 200: EventReceipt, 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (request) => {
        const { record, contents } = await batchOf(request.params.batch);
        const { applied } = contents;
        const position = Number(request.params.position);
        if (position >= applied.length) throw new ApiError("NOT_FOUND", 404, `batch ${record.batch} has ${applied.length} events`);
        contents.tree ??= new EventTree(hasher, applied);
        const receipt = contents.tree.receipt(position);
        return { event: applied[position], leaf: receipt.leaf, proof: receipt.proof, eventRoot: receipt.root, batch: summary(record) };
      },
    );
  };
