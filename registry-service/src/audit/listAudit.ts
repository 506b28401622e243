import { createPublicKey, verify } from "node:crypto";
import { gunzipSync, inflateSync } from "node:zlib";
import cbor from "cbor";
import { decodeJwt, importJWK, jwtVerify, type JWK } from "jose";
import {
  bitstringBit,
  fromBase64url,
  fromEncodedList,
  getBitstringBit,
  getTokenStatus,
  LIST_SIZE,
  Status,
  TOKEN_STATUS_BITS,
  tokenStatus,
  TokenStatus,
  type BitstringPurpose,
  type Hex,
  type ListAnchor,
} from "../core";
import { Divergence } from "./replay";

/** One published list as the audit read it: where, in which form, the anchor it names, its raw entries. */
export interface FetchedList {
  url: string;
  form: "jwt" | "cwt" | BitstringPurpose;
  list: number;
  anchor: ListAnchor;
  entries: Uint8Array;
}

/** What the audit needs of the replayed state when a list's batch is reached. */
export interface ReplayedAt {
  batch: number;
  statusRoot: Hex;
  transactionHash: Hex | null;
  status(index: number): Status;
}

/** At most this many wrong entries of one list are reported one by one (the message says how many in all). */
const ENTRY_FINDINGS_PER_LIST = 100;

/** CBOR maps as Maps (a CWT's claims have integer keys). */
const decodeCbor = (bytes: Uint8Array): unknown => cbor.decodeFirstSync(bytes, { preferMap: true });

const finding = (
  code: Divergence["code"],
  anchor: Partial<ListAnchor> | undefined,
  message: string,
  evidence: Divergence["list"] & object,
  values: { expected?: string; computed?: string } = {},
) => new Divergence(code, anchor?.batch ?? 0, (anchor?.transactionHash ?? "0x") as Hex, message, { ...values, list: evidence });

/**
 * Reads every list a publisher lists at `<base>/v1/lists`, in every form (token list as JWT and CWT,
 * W3C revocation and suspension credentials): their signatures against `key` when given, their
 * anchors and their entries, decompressed with Node's zlib. What cannot be read is a finding.
 */
export async function fetchLists(base: string, key?: JWK, timeoutMs = 10_000): Promise<{ lists: FetchedList[]; findings: Divergence[] }> {
  const get = async (url: string, accept: string) => {
    const response = await fetch(url, { headers: { accept }, signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  };
  const root = base.replace(/\/+$/, "");
  let index: { status_lists: string[]; bitstring: Record<BitstringPurpose, string[]> };
  try {
    index = JSON.parse(Buffer.from(await get(`${root}/v1/lists`, "application/json")).toString("utf8"));
  } catch (error) {
    throw new Error(`cannot read the lists' index at ${root}/v1/lists: ${(error as Error).message}`);
  }
  const verifier = key && (await listKeys(key));
  const reads: [string, FetchedList["form"], number][] = [
    ...index.status_lists.flatMap(
      (url, list) =>
        [
          [url, "jwt", list],
          [url, "cwt", list],
        ] as [string, FetchedList["form"], number][],
    ),
    ...(["revocation", "suspension"] as const).flatMap((purpose) =>
      (index.bitstring?.[purpose] ?? []).map((url, list) => [url, purpose, list] as [string, FetchedList["form"], number]),
    ),
  ];
  const lists: FetchedList[] = [];
  const findings: Divergence[] = [];
  for (const [url, form, list] of reads) {
    try {
      const body = await get(
        url,
        form === "cwt" ? "application/statuslist+cwt" : form === "jwt" ? "application/statuslist+jwt" : "application/vc+jwt",
      );
      lists.push({ url, form, list, ...(await readList(body, form, url, verifier)) });
    } catch (error) {
      const code = error instanceof SignatureError ? "LIST_SIGNATURE_INVALID" : "LIST_UNREADABLE";
      findings.push(finding(code, undefined, `${form} list ${url}: ${(error as Error).message}`, { url, form }));
    }
  }
  return { lists, findings };
}

class SignatureError extends Error {}

type ListKeys = { jose: Awaited<ReturnType<typeof importJWK>>; node: ReturnType<typeof createPublicKey> };

async function listKeys(jwk: JWK): Promise<ListKeys> {
  return { jose: await importJWK(jwk, "ES256"), node: createPublicKey({ key: jwk as never, format: "jwk" }) };
}

/** A list's anchor and raw entries from its signed body (its signature checked when keys are given, not its expiry: the audit judges history). */
async function readList(
  body: Uint8Array,
  form: FetchedList["form"],
  url: string,
  keys?: ListKeys,
): Promise<Pick<FetchedList, "anchor" | "entries">> {
  const read = form === "cwt" ? readCwt(body, keys) : await readJwtList(body, form, url, keys);
  if (typeof read.anchor?.batch !== "number" || typeof read.anchor.statusRoot !== "string")
    throw new Error("it names no anchor (batch, statusRoot)");
  return read;
}

async function readJwtList(
  body: Uint8Array,
  form: "jwt" | BitstringPurpose,
  url: string,
  keys?: ListKeys,
): Promise<Pick<FetchedList, "anchor" | "entries">> {
  const token = Buffer.from(body).toString("utf8");
  const payload = decodeJwt(token) as Record<string, unknown> & { iat?: number };
  if (keys)
    await jwtVerify(token, keys.jose, { algorithms: ["ES256"], currentDate: new Date((payload.iat ?? 0) * 1000) }).catch((error: Error) => {
      throw new SignatureError(`signature: ${error.message}`);
    });
  return form === "jwt" ? tokenEntries(payload, url) : bitstringEntries(payload, form);
}

function tokenEntries(payload: Record<string, unknown>, url: string): Pick<FetchedList, "anchor" | "entries"> {
  const statusList = payload.status_list as { bits: number; lst: string };
  if (payload.sub !== url) throw new Error(`its sub is ${String(payload.sub)}, not its URL`);
  if (statusList?.bits !== TOKEN_STATUS_BITS) throw new Error(`bits is ${statusList?.bits}, expected ${TOKEN_STATUS_BITS}`);
  return { anchor: payload.anchor as ListAnchor, entries: new Uint8Array(inflateSync(fromBase64url(statusList.lst))) };
}

function bitstringEntries(payload: Record<string, unknown>, form: BitstringPurpose): Pick<FetchedList, "anchor" | "entries"> {
  const subject = payload.credentialSubject as { statusPurpose: string; encodedList: string };
  if (subject?.statusPurpose !== form) throw new Error(`its statusPurpose is ${subject?.statusPurpose}, expected ${form}`);
  return { anchor: payload.anchor as ListAnchor, entries: new Uint8Array(gunzipSync(fromEncodedList(subject.encodedList))) };
}

/** A COSE_Sign1 Status List Token: its ES256 signature over Sig_structure (RFC 9052 section 4.4), its claims. */
function readCwt(body: Uint8Array, keys?: ListKeys): Pick<FetchedList, "anchor" | "entries"> {
  const tagged = decodeCbor(body) as { tag?: number; value?: [Uint8Array, unknown, Uint8Array, Uint8Array] };
  if (tagged?.tag !== 18 || !Array.isArray(tagged.value)) throw new Error("not a COSE_Sign1_Tagged message");
  const [protectedHeader, , payload, signature] = tagged.value;
  if (keys) {
    const toBeSigned = cbor.encode(["Signature1", Buffer.from(protectedHeader), Buffer.alloc(0), Buffer.from(payload)]);
    if (!verify("sha256", toBeSigned, { key: keys.node, dsaEncoding: "ieee-p1363" }, signature))
      throw new SignatureError("COSE signature does not verify");
  }
  const claims = decodeCbor(payload) as Map<number | string, unknown>;
  const statusList = claims.get(65533) as Map<string, unknown> | undefined;
  const anchor = claims.get("anchor") as Map<string, unknown> | undefined;
  if (!statusList || !anchor) throw new Error("the CWT lacks its status list or anchor claim");
  return {
    anchor: Object.fromEntries(anchor) as unknown as ListAnchor,
    entries: new Uint8Array(inflateSync(statusList.get("lst") as Uint8Array)),
  };
}

/** The entry a list must hold for `status`, and what it holds at `position`, as the list's form writes them. */
function entryOf(
  list: FetchedList,
  position: number,
  status: Status,
): { expected: number; found: number; name: (value: number) => string } {
  if (list.form === "jwt" || list.form === "cwt")
    return {
      expected: tokenStatus(status),
      found: getTokenStatus(list.entries, TOKEN_STATUS_BITS, position),
      name: (v) => TokenStatus[v] ?? String(v),
    };
  return { expected: Number(bitstringBit(status, list.form)), found: Number(getBitstringBit(list.entries, position)), name: String };
}

/** Why a list cannot be held entry by entry against the state at its batch: another anchor, or too few entries. */
function listProblem(list: FetchedList, at: ReplayedAt): Divergence | undefined {
  const { anchor, url, form } = list;
  if (anchor.statusRoot?.toLowerCase() !== at.statusRoot.toLowerCase() || (anchor.transactionHash ?? null) !== at.transactionHash) {
    const message = `${form} list ${url} names batch ${anchor.batch} as root ${anchor.statusRoot} in ${anchor.transactionHash}; the chain anchored ${at.statusRoot} in ${at.transactionHash}`;
    return finding("LIST_ANCHOR_MISMATCH", anchor, message, { url, form }, { expected: at.statusRoot, computed: anchor.statusRoot });
  }
  const perEntry = form === "jwt" || form === "cwt" ? TOKEN_STATUS_BITS : 1;
  if (list.entries.length * 8 < LIST_SIZE * perEntry) {
    const message = `${form} list ${url} holds ${(list.entries.length * 8) / perEntry} entries, fewer than ${LIST_SIZE}`;
    return finding("LIST_UNREADABLE", anchor, message, { url, form });
  }
  return undefined;
}

/** Holds one list against the replayed state at the batch it names: its anchor, then every entry. */
export function checkList(list: FetchedList, at: ReplayedAt): Divergence[] {
  const problem = listProblem(list, at);
  if (problem) return [problem];
  const { anchor, url, form } = list;
  const findings: Divergence[] = [];
  let wrong = 0;
  for (let position = 0; position < LIST_SIZE; position++) {
    const index = list.list * LIST_SIZE + position;
    const { expected, found, name } = entryOf(list, position, at.status(index));
    if (expected === found) continue;
    if (++wrong > ENTRY_FINDINGS_PER_LIST) continue;
    const message = `${form} list ${url}: index ${index} (entry ${position}) reads ${name(found)}, the replayed state at batch ${anchor.batch} gives ${name(expected)}`;
    findings.push(
      finding("LIST_ENTRY_MISMATCH", anchor, message, { url, form, index }, { expected: name(expected), computed: name(found) }),
    );
  }
  if (wrong > ENTRY_FINDINGS_PER_LIST)
    findings[findings.length - 1].message += ` (${wrong} wrong entries in this list, the first ${ENTRY_FINDINGS_PER_LIST} reported)`;
  return findings;
}

/** A list naming a batch the chain's replay never reached. */
export function unknownAnchor(list: FetchedList, replayed: number): Divergence {
  const { anchor, url, form } = list;
  const message = `${form} list ${url} names batch ${anchor?.batch}, which the chain does not hold (replayed to batch ${replayed})`;
  return finding("LIST_ANCHOR_MISMATCH", anchor, message, { url, form }, { expected: `<= ${replayed}`, computed: String(anchor?.batch) });
}
