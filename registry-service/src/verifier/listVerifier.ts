import type { Provider } from "ethers";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { errors as joseErrors, importJWK, jwtVerify, type JWK } from "jose";
import { fromBase64url, getTokenStatus, listPosition, TOKEN_STATUS_BITS, TokenStatus } from "../core";
import { ChainError, type RootInfo } from "../chain/read";
import { StatusListTokenClaims, type ListAnchorSchema } from "../wire";
import {
  anchoredRoot,
  chainFault,
  chainRoots,
  freshnessRefusal,
  rootPolicy,
  rootRefusal,
  type ChainNow,
  type ChainRoots,
  type RootPolicy,
  type VerifierOptions,
  type Freshness,
  type CheckReason,
  type CheckResult,
} from "./verifier";

const claimsSchema = TypeCompiler.Compile(StatusListTokenClaims);

export interface ListVerifierOptions extends Pick<VerifierOptions, "chainId" | "minWitnesses" | "confirmations"> {
  /** the verifier's OWN chain connection: an ethers Provider or a JSON-RPC URL */
  chain: Provider | string;
  registry: string;
  /** where the lists are published: the service's (or a mirror's, or a CDN's) base URL; list n is at <base>/v1/lists/token/n */
  lists: string;
  /** the issuer's list-signing PUBLIC key, pinned (a JWK): a list signed by any other key is refused */
  listKey: JWK;
  /** how long ago a list's root may have been superseded and still be accepted, seconds (default 30, as the proof path) */
  maxRootAgeSeconds?: number;
  /** as the proof path's: how long the current root may go unconfirmed (default 180), how far your node may lag (default 120), seconds */
  maxStaleSeconds?: number;
  maxChainLagSeconds?: number;
  /** timeout of each fetch and chain call, ms (default 5000) */
  timeoutMs?: number;
  /** wall clock in ms, replaceable in tests */
  now?: () => number;
}

/** A verified list, kept for its ttl (the draft's caching rule) and re-fetched after. */
interface HeldList {
  url: string;
  claims: typeof StatusListTokenClaims.static;
  entries: Uint8Array;
  fetchedAt: number;
}

/** What a list check adds to a check's result: the list that decided, and its anchor. */
export type ListCheckResult = CheckResult & { list?: { url: string; iat: number; exp: number; anchor: ListAnchorSchema } };

export interface ListVerifier {
  /** The credential's status through the published list that holds `index`; only VALID admits. */
  check(index: number): Promise<ListCheckResult>;
}

/**
 * A verifier that reads the Token Status List instead of asking for a proof: the list's signature
 * against the pinned key, its freshness (exp, ttl), and the anchor it names on the verifier's own
 * chain node, refused with the proof path's reasons. A list says which status an index has, not
 * which credential holds it: the credential's own signature binds its index.
 */
export async function createListVerifier(options: ListVerifierOptions): Promise<ListVerifier> {
  const key = await importJWK(options.listKey, "ES256").catch((error: unknown) => {
    throw new Error(`listKey: not an ES256 public key: ${(error as Error).message}`);
  });
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 5000;
  const roots = chainRoots(options, { timeoutMs, cacheMs: 2000, now });
  const policy = rootPolicy(options);
  const base = options.lists.replace(/\/+$/, "");
  const held = new Map<number, HeldList>();
  const fetchList = async (list: number): Promise<HeldList> => {
    const kept = held.get(list);
    if (kept && now() < kept.fetchedAt + kept.claims.ttl * 1000 && now() < kept.claims.exp * 1000) return kept;
    const url = `${base}/v1/lists/token/${list}`;
    const fresh = await readList(url, key, timeoutMs, now);
    held.set(list, fresh);
    return fresh;
  };
  return {
    async check(index) {
      if (!Number.isSafeInteger(index) || index < 0) return refuse(index, "UNKNOWN_INDEX", `index ${index} is not a status index`);
      const { list, position } = listPosition(index);
      let listed: HeldList;
      try {
        listed = await fetchList(list);
      } catch (error) {
        return error instanceof ListRefusal
          ? refuse(index, error.reason, error.message)
          : refuse(index, "SOURCE_UNREACHABLE", (error as Error).message);
      }
      return judge(index, position, listed, {
        roots,
        registry: options.registry,
        policy,
        freshness: { maxStaleMs: (options.maxStaleSeconds ?? 180) * 1000, maxChainLagMs: (options.maxChainLagSeconds ?? 120) * 1000 },
        now,
      });
    },
  };
}

class ListRefusal extends Error {
  constructor(
    readonly reason: CheckReason,
    message: string,
  ) {
    super(message);
  }
}

const refuse = (index: number, reason: CheckReason, message: string, extra: Partial<ListCheckResult> = {}): ListCheckResult => ({
  valid: false,
  reason,
  message,
  index,
  ...extra,
});

/** Fetches a list and checks everything it says about itself: signature, type, subject, expiry, claims, and its entries' length. */
async function readList(url: string, key: Parameters<typeof jwtVerify>[1], timeoutMs: number, now: () => number): Promise<HeldList> {
  const response = await fetch(url, { headers: { accept: "application/statuslist+jwt" }, signal: AbortSignal.timeout(timeoutMs) }).catch(
    (error: unknown) => {
      throw new ListRefusal("SOURCE_UNREACHABLE", `${url} does not answer: ${(error as Error).message}`);
    },
  );
  if (response.status === 404) throw new ListRefusal("UNKNOWN_INDEX", `${url} is not published: no index of it was issued`);
  if (!response.ok) throw new ListRefusal("SOURCE_UNREACHABLE", `${url} answered HTTP ${response.status}`);
  const token = await response.text();
  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(token, key, {
      algorithms: ["ES256"],
      typ: "statuslist+jwt",
      subject: url,
      currentDate: new Date(now()),
    }));
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw new ListRefusal("ROOT_TOO_OLD", `the list at ${url} expired: ${error.message}`);
    throw new ListRefusal(
      "PROOF_INVALID",
      `the list at ${url} is not signed by the pinned list key as a statuslist+jwt for its URL: ${(error as Error).message}`,
    );
  }
  if (!claimsSchema.Check(payload))
    throw new ListRefusal("PROOF_INVALID", `the list at ${url} lacks its claims: ${claimsSchema.Errors(payload).First()?.message}`);
  const entries = await inflate(fromBase64url(payload.status_list.lst)).catch(() => {
    throw new ListRefusal("PROOF_INVALID", `the list at ${url} does not decompress (zlib)`);
  });
  return { url, claims: payload, entries, fetchedAt: now() };
}

/** ZLIB (RFC 1950) decompression with the platform's DecompressionStream: no Node module, works in browsers too. */
async function inflate(compressed: Uint8Array): Promise<Uint8Array> {
  // copied: a view of a shared buffer is not a BlobPart in the DOM typings
  const stream = new Blob([new Uint8Array(compressed)]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

interface Judging {
  roots: ChainRoots;
  registry: string;
  policy: RootPolicy;
  freshness: Freshness;
  now: () => number;
}

/** The list's anchor as the verifier's own node sees it: its root's record, or why it cannot vouch for the list. */
async function anchorOnChain(
  listed: HeldList,
  by: Judging,
): Promise<{ root: RootInfo } | { reason: CheckReason; message: string; root?: RootInfo }> {
  const { anchor } = listed.claims;
  let root;
  let chainNow: ChainNow;
  try {
    [root, chainNow] = await Promise.all([by.roots.rootInfo(anchor.statusRoot), by.roots.current()]);
  } catch (error) {
    if (error instanceof ChainError) return chainFault(error);
    throw error;
  }
  const anchored = anchoredRoot(root);
  const refusal =
    rootRefusal(root, anchor, listed.url, by.policy, by.now()) ?? freshnessRefusal(chainNow, anchored!, by.freshness, by.now());
  return refusal ? { ...refusal, root: anchored } : { root: anchored! };
}

/** The list's anchor checked on the chain, then the entry's status read. */
async function judge(index: number, position: number, listed: HeldList, by: Judging): Promise<ListCheckResult> {
  const { anchor, iat, exp } = listed.claims;
  const list = { url: listed.url, iat, exp, anchor };
  if (anchor.registry.toLowerCase() !== by.registry.toLowerCase())
    return refuse(index, "ROOT_NOT_ANCHORED", `the list at ${listed.url} is of registry ${anchor.registry}, not ${by.registry}`, { list });
  const onChain = await anchorOnChain(listed, by);
  if ("reason" in onChain) return refuse(index, onChain.reason, onChain.message, { list, source: listed.url, root: onChain.root });
  if (position * TOKEN_STATUS_BITS >= listed.entries.length * 8)
    return refuse(index, "PROOF_INVALID", `the list at ${listed.url} has fewer entries than position ${position}`, { list });
  const status = getTokenStatus(listed.entries, TOKEN_STATUS_BITS, position);
  const proven = { list, source: listed.url, root: onChain.root };
  const asOf = `(list ${listed.url}, batch ${anchor.batch})`;
  if (status === TokenStatus.Valid)
    return { valid: true, reason: "VALID", message: `credential ${index} is valid ${asOf}`, index, ...proven };
  if (status === TokenStatus.Suspended) return refuse(index, "SUSPENDED", `credential ${index} is suspended ${asOf}`, proven);
  if (status === TokenStatus.Invalid) return refuse(index, "REVOKED", `credential ${index} is revoked ${asOf}`, proven);
  return refuse(index, "UNKNOWN_INDEX", `index ${index} was never issued ${asOf}`, proven);
}
