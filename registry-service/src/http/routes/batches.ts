import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Hex } from "../../core";
import { batchSchema, receiptSchema } from "../../readApi";
import { Address, BatchSummary, DecimalString, ErrorBody, Hex32, SubmissionStatus } from "../../wire";
import { BatchArchive } from "../batchArchive";
import type { Services } from "../services";

const listSchema = {
  tags: ["auditor"],
  summary: "Cut batches, newest first",
  querystring: Type.Object(
    { before: Type.Optional(DecimalString(12)), limit: Type.Optional(DecimalString(3)) },
    { additionalProperties: false },
  ),
  response: { 200: Type.Object({ batches: Type.Array(BatchSummary) }), 400: ErrorBody },
};

const submissionSchema = {
  tags: ["issuer", "operator", "auditor"],
  summary: "Where one accepted submission stands: its batch, its events' positions and receipts once cut, its transaction once anchored",
  params: Type.Object({ signer: Address, nonce: Hex32 }),
  response: { 200: SubmissionStatus, 400: ErrorBody, 404: ErrorBody },
};

/** Read-only views for auditors and submitters: batches, their signed submissions, event receipts, one submission's progress. */
export const batchRoutes =
  ({ journal, intake, hasher }: Services): FastifyPluginAsyncTypebox =>
  async (app) => {
    const archive = new BatchArchive(journal, intake, hasher);
    app.get("/batches", { schema: listSchema }, async (request) => {
      const limit = Math.min(100, Math.max(1, Number(request.query.limit ?? 20)));
      const before = request.query.before === undefined ? undefined : Number(request.query.before);
      return { batches: await archive.list(before, limit) };
    });
    app.get("/batches/:batch", { schema: batchSchema }, async (request) => {
      const { summary, contents } = await archive.batch(Number(request.params.batch));
      return {
        batch: summary,
        submissions: contents.entries.map((entry) => ({ signer: entry.signer, ...entry.submission })),
        applied: contents.applied,
      };
    });
    app.get("/batches/:batch/receipts/:position", { schema: receiptSchema }, async (request) =>
      archive.receipt(Number(request.params.batch), Number(request.params.position)),
    );
    app.get("/submissions/:signer/:nonce", { schema: submissionSchema }, async (request) => {
      // the type provider cannot see through the wire schema's Hex-typed strings
      const { signer, nonce } = request.params as { signer: string; nonce: string };
      return archive.submission(signer.toLowerCase() as Hex, nonce.toLowerCase() as Hex);
    });
  };
