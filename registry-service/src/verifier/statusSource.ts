import { checkRecord, hexToBytes, type Hex, type StatusRecord } from "../core";

/** What a status source (the registry service or a mirror) claims about one index. */
export interface StatusAnswer {
  index: number;
  /** the record under the latest root the source saw anchored, with its proof */
  record: StatusRecord;
  proof: Hex[];
  anchor: { batch: number; statusRoot: Hex; transactionHash: Hex | null; blockNumber: number | null };
  /** a change the source accepted but has not anchored yet (null from mirrors) */
  pending: StatusRecord | null;
}

/** Where answers come from; anything that serves GET /v1/status/:index, or a custom fetcher. */
export interface StatusSource {
  readonly name: string;
  status(index: number): Promise<StatusAnswer>;
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
        return parseStatusAnswer(await response.json(), index);
      } catch (error) {
        throw new SourceError("PROOF_INVALID", `${base} sent a malformed answer: ${(error as Error).message}`);
      }
    },
  };
}

/** Strict reading of a source's JSON: a verifier trusts none of it until the proof checks out. */
export function parseStatusAnswer(json: unknown, index: number): StatusAnswer {
  const body = json as {
    index?: unknown;
    anchored?: { record?: unknown; proof?: unknown; anchor?: Record<string, unknown> };
    pending?: unknown;
  };
  if (body?.index !== index) throw new Error(`answer is for index ${String(body?.index)}, asked ${index}`);
  const anchored = body.anchored;
  if (!anchored || !Array.isArray(anchored.proof) || !anchored.anchor) throw new Error("no anchored record, proof and anchor");
  const proof = anchored.proof.map((step, level) => asHex32(step, `proof[${level}]`));
  const anchor = anchored.anchor;
  const batch = anchor.batch;
  if (!Number.isSafeInteger(batch)) throw new Error("anchor.batch is not an integer");
  return {
    index,
    record: asRecord(anchored.record, index),
    proof,
    anchor: {
      batch: batch as number,
      statusRoot: asHex32(anchor.statusRoot, "anchor.statusRoot"),
      transactionHash: anchor.transactionHash == null ? null : asHex32(anchor.transactionHash, "anchor.transactionHash"),
      blockNumber: typeof anchor.blockNumber === "number" ? anchor.blockNumber : null,
    },
    pending: body.pending == null ? null : asRecord(body.pending, index),
  };
}

function asHex32(value: unknown, field: string): Hex {
  if (typeof value !== "string") throw new Error(`${field} is not a hex string`);
  hexToBytes(value, 32, field);
  return value.toLowerCase() as Hex;
}

function asRecord(value: unknown, index: number): StatusRecord {
  const r = value as Record<string, unknown>;
  const record = {
    index: r?.index,
    credentialCommitment: asHex32(r?.credentialCommitment, "record.credentialCommitment"),
    deviceKeyHash: asHex32(r?.deviceKeyHash, "record.deviceKeyHash"),
    status: r?.status,
    reason: r?.reason,
    batch: r?.batch,
  } as StatusRecord;
  if (record.index !== index) throw new Error(`record is for index ${String(r?.index)}`);
  checkRecord(record);
  return record;
}
