import { Contract, type Provider } from "ethers";
import { Hasher, Status, verifyStatusProof, type StatusRecord } from "../core";
import { ChainError, lazyProvider, REGISTRY_ABI, revertName, toRootInfo, type RootInfo } from "../chain/read";
import type { StatusAnswer } from "../wire";
import { httpStatusSource, SourceError, type StatusSource } from "./statusSource";

/**
 * Why a check came out as it did; a bank's code switches on it. Only VALID is a yes: every other
 * reason, including "could not confirm" ones, is a refusal (the verifier fails closed).
 */
export type CheckReason =
  | "VALID"
  | "SUSPENDED"
  | "REVOKED"
  | "PENDING_LOCK"
  | "DEVICE_MISMATCH"
  | "CREDENTIAL_MISMATCH"
  | "UNKNOWN_INDEX"
  | "PROOF_INVALID"
  | "ROOT_NOT_ANCHORED"
  | "ROOT_TOO_OLD"
  | "SOURCE_UNREACHABLE"
  | "CHAIN_UNREACHABLE";

export interface CheckResult {
  valid: boolean;
  reason: CheckReason;
  message: string;
  index: number;
  /** the proven record (present once a proof checked out against an anchored root) */
  record?: StatusRecord;
  /** the chain's word on the root the proof leads to */
  root?: RootInfo;
  /** a not-yet-anchored change the source reported (unproven: it is only ever used to deny) */
  pending?: StatusRecord | null;
  /** which source's answer decided */
  source?: string;
  /** what each source tried said, when none gave a usable answer */
  attempts?: { source: string; reason: CheckReason; message: string }[];
}

export interface VerifierOptions {
  /** the verifier's OWN chain connection: an ethers Provider or a JSON-RPC URL */
  chain: Provider | string;
  registry: string;
  /** status sources tried in order (service, mirrors): base URLs or StatusSource objects */
  sources: (string | StatusSource)[];
  /** how long ago a root may have been superseded and still be accepted, seconds (default 30) */
  maxRootAgeSeconds?: number;
  /** "deny": a suspension or revocation the source reports as pending refuses the check (default "ignore") */
  pendingPolicy?: "ignore" | "deny";
  /** how long the chain's answer about a root is reused, ms (default 2000; 0 calls the chain every check) */
  rootCacheMs?: number;
  /** timeout of each source and chain call, ms (default 5000) */
  timeoutMs?: number;
  /** wall clock in ms, replaceable in tests */
  now?: () => number;
}

export interface Verifier {
  check(index: number, presented: { credentialCommitment: string; deviceKeyHash: string }): Promise<CheckResult>;
  /** the chain's view of a root, through the cache; null if it was never anchored */
  rootInfo(root: string): Promise<RootInfo | null>;
}

class RootNotAnchored extends Error {}

/**
 * A verifier that believes no status source: the record's proof is checked locally and the root it
 * leads to is looked up on the chain through the verifier's own connection.
 */
export async function createVerifier(options: VerifierOptions): Promise<Verifier> {
  if (options.sources.length === 0) throw new Error("createVerifier: give at least one status source");
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxRootAgeMs = (options.maxRootAgeSeconds ?? 30) * 1000;
  const rootCacheMs = options.rootCacheMs ?? 2000;
  const now = options.now ?? Date.now;
  const sources = options.sources.map((source) => (typeof source === "string" ? httpStatusSource(source, timeoutMs) : source));
  const provider = lazyProvider(options.chain, timeoutMs);
  const hasher = await Hasher.create();
  const cache = new Map<string, { info: RootInfo; fetchedAt: number }>();
  let depth: number | undefined;

  const registry = async () => new Contract(options.registry, REGISTRY_ABI, await provider());
  /** Chain calls: a revert is the contract's answer, anything else means the chain is unreachable. */
  async function call<T>(what: (contract: Contract) => Promise<T>): Promise<T> {
    try {
      return await what(await registry());
    } catch (error) {
      if (revertName(error) === "StatusRegistryUnknownRoot") throw new RootNotAnchored();
      if (error instanceof ChainError) throw error;
      throw new ChainError("CHAIN_UNREACHABLE", `registry ${options.registry}: ${(error as Error).message.split("\n")[0]}`);
    }
  }

  async function rootInfo(root: string): Promise<RootInfo> {
    const key = root.toLowerCase();
    const cached = cache.get(key);
    // a superseded root's info is final; a current one may change, so it is reused only briefly
    if (cached && (cached.info.supersededAt !== 0 || now() - cached.fetchedAt < rootCacheMs)) return cached.info;
    const info = toRootInfo(await call((contract) => contract.rootInfo(key)));
    if (rootCacheMs > 0) cache.set(key, { info, fetchedAt: now() });
    return info;
  }

  const refuse = (index: number, reason: CheckReason, message: string, extra: Partial<CheckResult> = {}): CheckResult => ({
    valid: false,
    reason,
    message,
    index,
    ...extra,
  });

  /** One source's answer judged against the chain; throws ChainError when the chain does not answer. */
  async function judge(
    index: number,
    answer: StatusAnswer,
    presented: { credentialCommitment: string; deviceKeyHash: string },
    source: string,
  ): Promise<CheckResult> {
    depth ??= Number(await call((contract) => contract.treeDepth()));
    const { record, proof, anchor } = answer.anchored;
    if (!verifyStatusProof(hasher, anchor.statusRoot, record, proof, depth)) {
      return refuse(index, "PROOF_INVALID", `the proof from ${source} does not lead to the root it names (${anchor.statusRoot})`, {
        source,
      });
    }
    let root: RootInfo;
    try {
      root = await rootInfo(anchor.statusRoot);
    } catch (error) {
      if (error instanceof RootNotAnchored)
        return refuse(index, "ROOT_NOT_ANCHORED", `root ${anchor.statusRoot} from ${source} was never anchored on the chain`, { source });
      throw error;
    }
    const age = root.supersededAt === 0 ? 0 : now() - root.supersededAt * 1000;
    if (age > maxRootAgeMs) {
      return refuse(
        index,
        "ROOT_TOO_OLD",
        `root of batch ${root.batch} from ${source} was superseded ${Math.round(age / 1000)} s ago (allowed ${maxRootAgeMs / 1000} s)`,
        { source, root },
      );
    }
    const proven = { source, root, record, pending: answer.pending };
    const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
    if (record.status === Status.None)
      return refuse(index, "UNKNOWN_INDEX", `index ${index} was never issued (as of batch ${root.batch})`, proven);
    if (!same(record.credentialCommitment, presented.credentialCommitment)) {
      return refuse(index, "CREDENTIAL_MISMATCH", `index ${index} belongs to another credential`, proven);
    }
    if (record.status === Status.Revoked)
      return refuse(index, "REVOKED", `credential ${index} is revoked (reason ${record.reason})`, proven);
    if (record.status === Status.Suspended)
      return refuse(index, "SUSPENDED", `credential ${index} is suspended (reason ${record.reason})`, proven);
    if (!same(record.deviceKeyHash, presented.deviceKeyHash)) {
      return refuse(index, "DEVICE_MISMATCH", `credential ${index} is bound to another device`, proven);
    }
    if (options.pendingPolicy === "deny" && answer.pending && answer.pending.status !== Status.Active) {
      return refuse(
        index,
        "PENDING_LOCK",
        `credential ${index} has a pending ${Status[answer.pending.status].toLowerCase()} change not yet anchored`,
        proven,
      );
    }
    return {
      valid: true,
      reason: "VALID",
      message: `credential ${index} is active on this device (batch ${root.batch})`,
      index,
      ...proven,
    };
  }

  return {
    rootInfo: (root) =>
      rootInfo(root).catch((error) => {
        if (error instanceof RootNotAnchored) return null;
        throw error;
      }),
    async check(index, presented) {
      if (!Number.isSafeInteger(index) || index < 0) return refuse(index, "UNKNOWN_INDEX", `index ${index} is not a status index`);
      const attempts: NonNullable<CheckResult["attempts"]> = [];
      for (const source of sources) {
        let answer: StatusAnswer;
        try {
          answer = await source.status(index);
        } catch (error) {
          const reason = error instanceof SourceError ? error.reason : "SOURCE_UNREACHABLE";
          attempts.push({ source: source.name, reason, message: (error as Error).message });
          continue;
        }
        try {
          const result = await judge(index, answer, presented, source.name);
          if (!["PROOF_INVALID", "ROOT_NOT_ANCHORED", "ROOT_TOO_OLD"].includes(result.reason)) return result;
          attempts.push({ source: source.name, reason: result.reason, message: result.message });
        } catch (error) {
          return refuse(index, "CHAIN_UNREACHABLE", `cannot confirm against the chain: ${(error as Error).message}`);
        }
      }
      // no source gave a proof the chain confirms: report the most telling failure
      const decisive = attempts.find((attempt) => attempt.reason !== "SOURCE_UNREACHABLE") ?? attempts[0];
      return refuse(index, decisive.reason, decisive.message, { attempts });
    },
  };
}
