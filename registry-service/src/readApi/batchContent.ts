import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { EventTree, type AppliedEvent, type Hasher, type Hex, type Submission } from "../core";
import { Address, AppliedEventSchema, BatchSummary, DecimalString, ErrorBody, EventBody, EventReceipt, Hex32, Hex65 } from "../wire";
import { ApiError } from "./errors";

const BatchParams = Type.Object({ batch: DecimalString(12, "batch number") });

export const batchSchema = {
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
};

export const receiptSchema = {
  tags: ["auditor", "verifier"],
  summary: "Proof that one event (e.g. a lost-phone lock) is in the batch's anchored event tree",
  params: Type.Object({ batch: BatchParams.properties.batch, position: DecimalString(9, "event position") }),
  response: { 200: EventReceipt, 400: ErrorBody, 404: ErrorBody },
};

/** A batch as the batch routes answer it: its summary, its signed submissions with their signers, the events they applied. */
export interface BatchContent {
  summary: BatchSummary;
  submissions: (Submission & { signer: Hex })[];
  applied: AppliedEvent[];
  /** the batch's event tree, when its source has it built already */
  eventTree?: EventTree;
}

/** The proof that event `position` of a batch is a leaf of its event tree (`tree`: the batch's, built once by the caller). */
export function eventReceipt(tree: EventTree, content: Pick<BatchContent, "summary" | "applied">, position: number): EventReceipt {
  const { summary, applied } = content;
  if (position >= applied.length) throw new ApiError("NOT_FOUND", 404, `batch ${summary.batch} has ${applied.length} events`);
  const receipt = tree.receipt(position);
  return { event: applied[position], leaf: receipt.leaf, proof: receipt.proof, eventRoot: receipt.root, batch: summary };
}

/**
 * GET /batches/:batch and its receipts over any source of batch contents: a mirror's recent
 * replayed batches (the service has its own, over its journal, with the same schemas).
 */
export const batchContentRoutes =
  (source: { content(batch: number): BatchContent }, hasher: Hasher): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.get("/batches/:batch", { schema: batchSchema }, async (request) => {
      const { summary, submissions, applied } = source.content(Number(request.params.batch));
      return { batch: summary, submissions, applied };
    });
    app.get("/batches/:batch/receipts/:position", { schema: receiptSchema }, async (request) => {
      const content = source.content(Number(request.params.batch));
      return eventReceipt(content.eventTree ?? new EventTree(hasher, content.applied), content, Number(request.params.position));
    });
  };
