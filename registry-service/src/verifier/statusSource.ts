import { TypeCompiler } from "@sinclair/typebox/compiler";
import { checkRecord, type StatusRecord } from "../core";
import { StatusAnswer } from "../wire";

/** Where answers come from; anything that serves GET /v1/status/:index, or a custom fetcher. */
export interface StatusSource {
  readonly name: string;
  /**
   * What the source says about one index: meant to be a StatusAnswer (the wire schema), but the
   * verifier checks it against the schema itself, once, whatever the source.
   */
  status(index: number): Promise<unknown>;
}

/** The source did not answer, or answered something that is not a status answer. */
export class SourceError extends Error {
  constructor(
    readonly reason: "SOURCE_UNREACHABLE" | "PROOF_INVALID" | "UNKNOWN_INDEX",
    message: string,
  ) {
    super(message);
    this.name = "SourceError";
  }
}

/** A source over HTTP: the service's or a mirror's read API at `baseUrl`. */
export function httpStatusSource(baseUrl: string, timeoutMs = 5000): StatusSource {
  const base = baseUrl.replace(/\/+$/, "");
  return {
    name: base,
    async status(index) {
      let response: Response;
      try {
        response = await fetch(`${base}/v1/status/${index}`, { signal: AbortSignal.timeout(timeoutMs) });
      } catch (error) {
        throw new SourceError("SOURCE_UNREACHABLE", `${base} does not answer: ${(error as Error).message}`);
      }
      if (response.status === 404) throw new SourceError("UNKNOWN_INDEX", `${base} knows no index ${index}`);
      if (!response.ok) throw new SourceError("SOURCE_UNREACHABLE", `${base} answered HTTP ${response.status}`);
      try {
        return await response.json(); // checked against the wire schema by the verifier
      } catch (error) {
        throw new SourceError("PROOF_INVALID", `${base} sent no JSON: ${(error as Error).message}`);
      }
    },
  };
}

const answerSchema = TypeCompiler.Compile(StatusAnswer);

/**
 * Strict reading of a source's JSON against the wire schema the server answers with: a verifier
 * trusts none of it until the proof checks out. Hex comes back lower-cased.
 */
export function parseStatusAnswer(raw: unknown, index: number): StatusAnswer {
  const json = withNulls(raw);
  if (!answerSchema.Check(json)) {
    const first = answerSchema.Errors(json).First();
    throw new Error(first ? `${first.path || "answer"}: ${first.message}` : "not a status answer");
  }
  if (json.index !== index) throw new Error(`answer is for index ${json.index}, asked ${index}`);
  const { record, proof, anchor } = json.anchored;
  return {
    index,
    anchored: {
      record: ownRecord(record, index),
      proof: proof.map(lower),
      anchor: {
        batch: anchor.batch,
        statusRoot: lower(anchor.statusRoot),
        transactionHash: anchor.transactionHash && lower(anchor.transactionHash),
        blockNumber: anchor.blockNumber,
      },
    },
    pending: json.pending && ownRecord(json.pending, index),
  };
}

/** Fields a source may leave out (a mirror has no pending change, a root no transaction yet) read as null. */
function withNulls(raw: unknown): unknown {
  const body = raw as { pending?: unknown; anchored?: { anchor?: Record<string, unknown> } } | null;
  const anchor = body?.anchored?.anchor;
  if (typeof anchor !== "object" || anchor === null) return raw;
  return {
    ...body,
    pending: body!.pending ?? null,
    anchored: {
      ...body!.anchored,
      anchor: {
        ...anchor,
        transactionHash: anchor.transactionHash ?? null,
        blockNumber: typeof anchor.blockNumber === "number" ? anchor.blockNumber : null,
      },
    },
  };
}

const lower = <T extends string>(hex: T) => hex.toLowerCase() as T;

/** A record of `index`, checked field by field as the core would encode it. */
function ownRecord(record: StatusRecord, index: number): StatusRecord {
  if (record.index !== index) throw new Error(`record is for index ${record.index}`);
  const { status, reason, batch } = record;
  const own = {
    index,
    credentialCommitment: lower(record.credentialCommitment),
    deviceKeyHash: lower(record.deviceKeyHash),
    status,
    reason,
    batch,
  };
  checkRecord(own);
  return own;
}
