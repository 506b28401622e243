import { Contract, type Provider } from "ethers";
import { Hasher, Status, verifyStatusProof, type StatusRecord } from "../core";
import { ChainError, describedRevert, lazyProvider, REGISTRY_ABI, revertName, toRootInfo, type RootInfo } from "../chain/read";
import type { StatusAnswer } from "../wire";
import { httpStatusSource, parseStatusAnswer, SourceError, type StatusSource } from "./statusSource";

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
  | "ROOT_STRUCK"
  | "ROOT_UNWITNESSED"
  | "ROOT_TOO_OLD"
  | "ROOT_STALE"
  | "REGISTRY_PAUSED"
  | "CHAIN_STALE"
  | "SOURCE_UNREACHABLE"
  | "CHAIN_UNREACHABLE"
  | "WRONG_CHAIN";

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
  /**
   * the registry's chain id, from its deployment record: a node that answers for another chain is
   * refused (WRONG_CHAIN) on every check. Pin it: permissioned chains often share default ids.
   */
  chainId?: bigint | number | string;
  /**
   * how many consortium witnesses must have attested a root before it is relied on (docs/spec.md
   * 5.6; default 0). A root attested by fewer is refused with ROOT_UNWITNESSED and the next source
   * tried: a root a stolen publisher key anchored convinces no verifier that asks for witnesses.
   */
  minWitnesses?: number;
  /** status sources tried in order (service, mirrors): base URLs or StatusSource objects */
  sources: (string | StatusSource)[];
  /** how long ago a root may have been superseded and still be accepted, seconds (default 30) */
  maxRootAgeSeconds?: number;
  /**
   * What a suspension or revocation the source reports but has not anchored yet (a lost phone's lock
   * until its batch is anchored) does: "deny" refuses with PENDING_LOCK (the default: fail closed), "ignore"
   * judges the anchored record alone. The report is unproven, so it can only ever deny.
   */
  pendingPolicy?: "ignore" | "deny";
  /**
   * how long the current root may go unconfirmed on chain (its anchor or the publisher's heartbeat),
   * judged against the head of your own node, seconds (default 180: three missed heartbeats of a
   * service's default 60 s); older: ROOT_STALE, since a lock could be waiting to be anchored
   */
  maxStaleSeconds?: number;
  /** how far your own node's head may lag your clock, seconds (default 120); more: CHAIN_STALE */
  maxChainLagSeconds?: number;
  /**
   * how many blocks deep a root's anchor must be before it counts (default 1: the head, right on a
   * chain final at once such as QBFT). On a chain that can reorganise, set the service's
   * CONFIRMATIONS: the chain is then read as of that many blocks below its head, so a root a
   * reorganisation could still drop is never taken as anchored.
   */
  confirmations?: number;
  /** how long the chain's answer about a root is reused, ms (default 2000; 0 calls the chain every check) */
  rootCacheMs?: number;
  /** timeout of each source and chain call, ms (default 5000) */
  timeoutMs?: number;
  /** wall clock in ms, replaceable in tests */
  now?: () => number;
  /** told each step of a check as it happens (the web console shows them); never changes the outcome */
  onStep?: (step: CheckStep) => void;
}

/** One step of a check: what a source answered, whether its proof leads to its root, what the chain says of that root. */
export interface CheckStep {
  step: "ANSWER" | "PROOF" | "ROOT";
  ok: boolean;
  source: string;
  message: string;
}

/**
 * The credential in front of the verifier. A bank passes both values; null means "not presented,
 * not compared" (a console asking only for an index's status), and the verdict says so.
 */
export interface Presented {
  credentialCommitment: string | null;
  deviceKeyHash: string | null;
}

export interface Verifier {
  check(index: number, presented: Presented): Promise<CheckResult>;
  /** the chain's view of a root, through the cache; null if it was never anchored */
  rootInfo(root: string): Promise<VouchedRoot | StruckRoot | null>;
}

/** A root the admin's correction struck (docs/spec.md 5.5): anchored once, not the registry's. The chain refuses it for good. */
export interface StruckRoot {
  statusRoot: string;
  /** the correction batch that struck it */
  struckBy: number;
}

/**
 * The chain's word on roots, asked through the verifier's own node. A superseded root's info is
 * final; a current one may change, so it is reused only for `cacheMs`.
 */
/** What a verifier's own node says now: the current root, when it was last confirmed, whether anchoring is paused. */
export interface ChainNow {
  statusRoot: string;
  /** block timestamp of the current root's anchor or latest heartbeat */
  confirmedAt: number;
  paused: boolean;
  /** the head block's timestamp (unix seconds) these were read at */
  headTimestamp: number;
}

/** A root's record with how many witnesses attested it (counted only when the verifier asks for witnesses). */
export type VouchedRoot = RootInfo & { attestations: number };

/** How the chain is asked: through the cache for `cacheMs`, on the wall clock `now`, counting attestations when `minWitnesses` > 0. */
export interface ChainRootSettings {
  cacheMs: number;
  now: () => number;
  minWitnesses: number;
  /** blocks deep the chain is read at (1: the head) */
  confirmations: number;
}

export class ChainRoots {
  private readonly cache = new Map<string, { info: VouchedRoot | StruckRoot; fetchedAt: number }>();
  private treeDepth?: Promise<number>;
  private chainNow?: { value: ChainNow; fetchedAt: number };
  private readonly cacheMs: number;
  private readonly now: () => number;

  constructor(
    private readonly registry: string,
    private readonly provider: () => Promise<Provider>,
    private readonly settings: ChainRootSettings,
  ) {
    ({ cacheMs: this.cacheMs, now: this.now } = settings);
  }

  /** The registry's current root, its latest confirmation, whether it is paused, and the head they were read at; reused for `cacheMs`. */
  async current(): Promise<ChainNow> {
    if (this.chainNow && this.now() - this.chainNow.fetchedAt < this.cacheMs) return this.chainNow.value;
    const value = await this.call(async (contract, settled) => {
      const head = await (await this.provider()).getBlock(settled);
      if (!head) throw new Error(`the node has no block ${settled}`);
      const current = await contract.currentRoot({ blockTag: head.number });
      return {
        statusRoot: current.statusRoot as string,
        confirmedAt: Number(current.confirmedAt),
        paused: current.isPaused as boolean,
        headTimestamp: head.timestamp,
      };
    });
    if (this.cacheMs > 0) this.chainNow = { value, fetchedAt: this.now() };
    return value;
  }

  depth(): Promise<number> {
    this.treeDepth ??= this.call((contract) => contract.treeDepth()).then(Number);
    this.treeDepth.catch(() => (this.treeDepth = undefined)); // asked again after an unreachable chain
    return this.treeDepth;
  }

  /** The chain's record of a root, or null when it was never anchored. Throws ChainError when the chain does not answer. */
  async rootInfo(root: string): Promise<VouchedRoot | StruckRoot | null> {
    const key = root.toLowerCase();
    const cached = this.cache.get(key);
    if (cached && (this.isFinal(cached.info) || this.now() - cached.fetchedAt < this.cacheMs)) return cached.info;
    const witnessed = this.settings.minWitnesses > 0;
    const info = await this.call(async (contract, blockTag): Promise<VouchedRoot> => {
      const [anchored, attestations] = await Promise.all([
        contract.rootInfo(key, { blockTag }),
        witnessed ? contract.attestations(key, { blockTag }) : 0,
      ]);
      return { ...toRootInfo(anchored), attestations: Number(attestations) };
    }).catch((error: unknown) => {
      const revert = describedRevert(error);
      if (revert?.name === "StatusRegistryUnknownRoot") return null;
      if (revert?.name === "StatusRegistryRootStruck") return { statusRoot: root, struckBy: Number(revert.args[1]) };
      throw error;
    });
    if (info && this.cacheMs > 0) this.cache.set(key, { info, fetchedAt: this.now() });
    return info;
  }

  /** What the chain says of a struck root, or of a superseded root with its witnesses, does not change any more. */
  private isFinal(info: VouchedRoot | StruckRoot): boolean {
    return "struckBy" in info || (info.supersededAt !== 0 && info.attestations >= this.settings.minWitnesses);
  }

  /**
   * A chain call, at the block `confirmations` deep ("latest" with 1); any failure but the
   * contract's own revert means the chain could not be asked.
   */
  private async call<T>(what: (contract: Contract, blockTag: number | "latest") => Promise<T>): Promise<T> {
    const provider = await this.provider();
    const contract = new Contract(this.registry, REGISTRY_ABI, provider);
    const depth = this.settings.confirmations - 1;
    try {
      const blockTag = depth === 0 ? "latest" : Math.max(0, (await provider.getBlockNumber()) - depth);
      return await what(contract, blockTag);
    } catch (error) {
      if (revertName(error) !== undefined) throw error;
      throw new ChainError("CHAIN_UNREACHABLE", `registry ${this.registry}: ${(error as Error).message.split("\n")[0]}`);
    }
  }
}

/** The chain's record of a root the registry stands on: not a struck one, not an unknown one. */
export function anchoredRoot(root: VouchedRoot | StruckRoot | null): VouchedRoot | undefined {
  return root && !("struckBy" in root) ? root : undefined;
}

/** The chain connection a verifier asks through: its own node, pinned to the registry's chain when the chain id is given. */
export function chainRoots(
  options: Pick<VerifierOptions, "chain" | "registry" | "chainId" | "minWitnesses" | "confirmations">,
  settings: { timeoutMs: number; cacheMs: number; now: () => number },
): ChainRoots {
  const chainId = options.chainId === undefined ? undefined : BigInt(options.chainId);
  const provider = lazyProvider(options.chain, settings.timeoutMs, chainId);
  const confirmations = options.confirmations ?? 1;
  if (!Number.isSafeInteger(confirmations) || confirmations < 1) throw new Error(`confirmations must be 1 or more, got ${confirmations}`);
  return new ChainRoots(options.registry, provider, { ...settings, minWitnesses: options.minWitnesses ?? 0, confirmations });
}

/** A chain that could not be asked, as a check's reason: another chain than the pinned one, or none at all. */
export function chainFault(error: ChainError): { reason: "WRONG_CHAIN" | "CHAIN_UNREACHABLE"; message: string } {
  if (error.code === "WRONG_CHAIN") return { reason: "WRONG_CHAIN", message: error.message };
  return { reason: "CHAIN_UNREACHABLE", message: `cannot confirm against the chain: ${error.message}` };
}
const refuse = (index: number, reason: CheckReason, message: string, extra: Partial<CheckResult> = {}): CheckResult => ({
  valid: false,
  reason,
  message,
  index,
  ...extra,
});
/** Reasons that say the source (not the credential) is at fault: the next source is tried. */
const SOURCE_FAULTS: CheckReason[] = ["PROOF_INVALID", "ROOT_NOT_ANCHORED", "ROOT_STRUCK", "ROOT_TOO_OLD", "ROOT_UNWITNESSED"];

/**
 * A verifier that believes no status source: the record's proof is checked locally and the root it
 * leads to is looked up on the chain through the verifier's own connection.
 */
export async function createVerifier(options: VerifierOptions): Promise<Verifier> {
  if (options.sources.length === 0) throw new Error("createVerifier: give at least one status source");
  return new ChainCheckedVerifier(options, await Hasher.create());
}

class ChainCheckedVerifier implements Verifier {
  private readonly sources: StatusSource[];
  private readonly roots: ChainRoots;
  private readonly policy: RootPolicy;
  private readonly freshness: Freshness;
  private readonly now: () => number;

  constructor(
    private readonly options: VerifierOptions,
    private readonly hasher: Hasher,
  ) {
    const timeoutMs = options.timeoutMs ?? 5000;
    this.policy = rootPolicy(options);
    this.freshness = { maxStaleMs: (options.maxStaleSeconds ?? 180) * 1000, maxChainLagMs: (options.maxChainLagSeconds ?? 120) * 1000 };
    this.now = options.now ?? Date.now;
    this.sources = options.sources.map((source) => (typeof source === "string" ? httpStatusSource(source, timeoutMs) : source));
    this.roots = chainRoots(options, { timeoutMs, cacheMs: options.rootCacheMs ?? 2000, now: this.now });
  }

  rootInfo(root: string): Promise<VouchedRoot | StruckRoot | null> {
    return this.roots.rootInfo(root);
  }

  async check(index: number, presented: Presented): Promise<CheckResult> {
    if (!Number.isSafeInteger(index) || index < 0) return refuse(index, "UNKNOWN_INDEX", `index ${index} is not a status index`);
    const attempts: Attempt[] = [];
    for (const source of this.sources) {
      const result = await this.ask(source, index, presented, attempts);
      if (result) return result;
    }
    // no source gave a proof the chain confirms: report the most telling failure
    const decisive = attempts.find((attempt) => attempt.reason !== "SOURCE_UNREACHABLE") ?? attempts[0];
    return refuse(index, decisive.reason, decisive.message, { attempts });
  }

  /** Asks one source and judges its answer; undefined (with the attempt recorded) when the next source should be tried. */
  private async ask(source: StatusSource, index: number, presented: Presented, attempts: Attempt[]): Promise<CheckResult | undefined> {
    const failed = (reason: CheckReason, message: string) => {
      attempts.push({ source: source.name, reason, message });
      return undefined;
    };
    const answer = await this.answer(source, index);
    if ("reason" in answer) return failed(answer.reason, answer.message);
    try {
      const result = await this.judge(index, answer, presented, source.name);
      return SOURCE_FAULTS.includes(result.reason) ? failed(result.reason, result.message) : result;
    } catch (error) {
      if (error instanceof ChainError) {
        const fault = chainFault(error);
        this.step("ROOT", false, source.name, fault.message);
        return refuse(index, fault.reason, fault.message);
      }
      return failed("PROOF_INVALID", `the answer from ${source.name} cannot be checked: ${(error as Error).message}`);
    }
  }

  /** One source's answer, read strictly as a status answer, or why there is none. */
  private async answer(source: StatusSource, index: number): Promise<StatusAnswer | Omit<Attempt, "source">> {
    const fails = (reason: CheckReason, message: string) => {
      this.step("ANSWER", false, source.name, message);
      return { reason, message };
    };
    let said: unknown;
    try {
      said = await source.status(index);
    } catch (error) {
      return fails(error instanceof SourceError ? error.reason : "SOURCE_UNREACHABLE", (error as Error).message);
    }
    try {
      const answer = parseStatusAnswer(said, index); // custom sources too: nothing is used before it reads as a status answer
      const { record, proof, anchor } = answer.anchored;
      const what = `index ${index} is ${Status[record.status]} with a ${proof.length}-step proof to root ${anchor.statusRoot} (batch ${anchor.batch})`;
      this.step("ANSWER", true, source.name, `${source.name} says ${what}`);
      return answer;
    } catch (error) {
      return fails("PROOF_INVALID", `${source.name} sent a malformed answer: ${(error as Error).message}`);
    }
  }

  private step(step: CheckStep["step"], ok: boolean, source: string, message: string): void {
    this.options.onStep?.({ step, ok, source, message });
  }

  /** One source's answer judged against the chain; throws ChainError when the chain does not answer. */
  private async judge(index: number, answer: StatusAnswer, presented: Presented, source: string): Promise<CheckResult> {
    const { record, proof, anchor } = answer.anchored;
    if (!verifyStatusProof(this.hasher, anchor.statusRoot, record, proof, await this.roots.depth())) {
      const message = `the proof from ${source} does not lead to the root it names (${anchor.statusRoot})`;
      this.step("PROOF", false, source, message);
      return refuse(index, "PROOF_INVALID", message, { source });
    }
    this.step("PROOF", true, source, `the record hashes, with the proof, to root ${anchor.statusRoot} (checked here)`);
    const root = await this.roots.rootInfo(anchor.statusRoot);
    const now = this.now(); // one clock reading for the whole judgement
    const refusal = rootRefusal(root, { statusRoot: anchor.statusRoot }, source, this.policy, now);
    if (refusal) {
      this.step("ROOT", false, source, refusal.message);
      return refuse(index, refusal.reason, refusal.message, { source, root: anchoredRoot(root) });
    }
    const anchored = anchoredRoot(root)!;
    const stale = freshnessRefusal(await this.roots.current(), anchored, this.freshness, now);
    if (stale) {
      this.step("ROOT", false, source, stale.message);
      return refuse(index, stale.reason, stale.message, { source, root: anchored });
    }
    const current =
      anchored.supersededAt === 0
        ? "the current root"
        : `superseded ${Math.round((now - anchored.supersededAt * 1000) / 1000)} s ago, within the allowed age`;
    const witnessed = this.policy.minWitnesses > 0 ? `, attested by ${anchored.attestations} witnesses` : "";
    this.step("ROOT", true, source, `the chain anchored this root as batch ${anchored.batch}: ${current}${witnessed}`);
    return verdict(index, { source, root: anchored, record, pending: answer.pending }, presented, this.options.pendingPolicy ?? "deny");
  }
}

/** What a root must show before a verifier relies on it: superseded at most `maxRootAgeMs` ago, attested by `minWitnesses`. */
export interface RootPolicy {
  maxRootAgeMs: number;
  minWitnesses: number;
}

export function rootPolicy(options: { maxRootAgeSeconds?: number; minWitnesses?: number }): RootPolicy {
  const minWitnesses = options.minWitnesses ?? 0;
  if (!Number.isSafeInteger(minWitnesses) || minWitnesses < 0) throw new Error(`minWitnesses must be a whole number, got ${minWitnesses}`);
  return { maxRootAgeMs: (options.maxRootAgeSeconds ?? 30) * 1000, minWitnesses };
}

/**
 * Why the chain's word on a root refuses it (the proof path and the list path share it): never
 * anchored, struck, anchored for another batch than the source says, superseded longer ago than
 * allowed, or attested by fewer witnesses than required.
 */
export function rootRefusal(
  root: VouchedRoot | StruckRoot | null,
  claimed: { statusRoot: string; batch?: number },
  source: string,
  policy: RootPolicy,
  now: number,
): { reason: "ROOT_NOT_ANCHORED" | "ROOT_STRUCK" | "ROOT_TOO_OLD" | "ROOT_UNWITNESSED"; message: string } | undefined {
  if (!root) return { reason: "ROOT_NOT_ANCHORED", message: `root ${claimed.statusRoot} from ${source} was never anchored on the chain` };
  if ("struckBy" in root) {
    const message = `root ${claimed.statusRoot} from ${source} was struck by the admin's correction (batch ${root.struckBy}): it is not the registry's`;
    return { reason: "ROOT_STRUCK", message };
  }
  if (claimed.batch !== undefined && claimed.batch !== root.batch)
    return {
      reason: "ROOT_NOT_ANCHORED",
      message: `root ${claimed.statusRoot} from ${source} was anchored as batch ${root.batch}, not ${claimed.batch}`,
    };
  const age = root.supersededAt === 0 ? 0 : now - root.supersededAt * 1000;
  if (age > policy.maxRootAgeMs) {
    const message = `root of batch ${root.batch} from ${source} was superseded ${Math.round(age / 1000)} s ago (allowed ${policy.maxRootAgeMs / 1000} s)`;
    return { reason: "ROOT_TOO_OLD", message };
  }
  if (root.attestations >= policy.minWitnesses) return undefined;
  const message = `root of batch ${root.batch} from ${source} is attested by ${root.attestations} of the ${policy.minWitnesses} witnesses required: not yet trusted`;
  return { reason: "ROOT_UNWITNESSED", message };
}

/** How fresh the chain's word must be: the current root's last confirmation, and the verifier's own node. */
export interface Freshness {
  maxStaleMs: number;
  maxChainLagMs: number;
}

/**
 * Why what the chain says now cannot vouch for `root`, if it cannot (docs/spec.md 5.3): anchoring is
 * paused, the verifier's node lags its clock, or `root` is the current root but has not been
 * confirmed (anchored or heartbeat) within the allowed staleness of the node's head. Each means a lock
 * could be waiting that the chain does not show yet: refuse.
 */
export function freshnessRefusal(
  chain: ChainNow,
  root: Pick<RootInfo, "statusRoot" | "supersededAt">,
  bounds: Freshness,
  now: number,
): { reason: "REGISTRY_PAUSED" | "CHAIN_STALE" | "ROOT_STALE"; message: string } | undefined {
  if (chain.paused)
    return { reason: "REGISTRY_PAUSED", message: "the registry is paused: no lock can be anchored, so no status can be confirmed" };
  const lag = now - chain.headTimestamp * 1000;
  if (lag > bounds.maxChainLagMs)
    return {
      reason: "CHAIN_STALE",
      message: `your chain node's head is ${Math.round(lag / 1000)} s old (allowed ${bounds.maxChainLagMs / 1000} s)`,
    };
  const unconfirmed = (chain.headTimestamp - chain.confirmedAt) * 1000;
  if (root.supersededAt === 0 && unconfirmed > bounds.maxStaleMs)
    return {
      reason: "ROOT_STALE",
      message: `the current root was last confirmed ${Math.round(unconfirmed / 1000)} s before your node's head (allowed ${bounds.maxStaleMs / 1000} s): anchoring may have stopped`,
    };
  return undefined;
}

type Attempt = NonNullable<CheckResult["attempts"]>[number];
type Proven = Required<Pick<CheckResult, "source" | "root" | "record">> & { pending: CheckResult["pending"] };

/** What a proven record under a current root says about the credential presented. */
function verdict(index: number, proven: Proven, presented: Presented, pendingPolicy: "ignore" | "deny"): CheckResult {
  const { record, root, pending } = proven;
  const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  if (record.status === Status.None)
    return refuse(index, "UNKNOWN_INDEX", `index ${index} was never issued (as of batch ${root.batch})`, proven);
  // null: not presented, so not compared (a status-only question); a presented value must match
  const differs = (recorded: string, given: string | null) => given !== null && !same(recorded, given);
  if (differs(record.credentialCommitment, presented.credentialCommitment)) {
    return refuse(index, "CREDENTIAL_MISMATCH", `index ${index} belongs to another credential`, proven);
  }
  if (record.status === Status.Revoked) return refuse(index, "REVOKED", `credential ${index} is revoked (reason ${record.reason})`, proven);
  if (record.status === Status.Suspended)
    return refuse(index, "SUSPENDED", `credential ${index} is suspended (reason ${record.reason})`, proven);
  if (differs(record.deviceKeyHash, presented.deviceKeyHash)) {
    return refuse(index, "DEVICE_MISMATCH", `credential ${index} is bound to another device`, proven);
  }
  if (pendingPolicy === "deny" && pending && pending.status !== Status.Active) {
    const message = `credential ${index} has a pending ${Status[pending.status].toLowerCase()} change not yet anchored`;
    return refuse(index, "PENDING_LOCK", message, proven);
  }
  return {
    valid: true,
    reason: "VALID",
    message: `credential ${index} is active${scope(presented)} (batch ${root.batch})`,
    index,
    ...proven,
  };
}

/** What a VALID covers: the device presented, or which values were not presented and so not compared. */
function scope(presented: Presented): string {
  const absent = [presented.credentialCommitment === null && "commitment", presented.deviceKeyHash === null && "device"].filter(Boolean);
  return absent.length ? ` (${absent.join(" and ")} not presented, not compared)` : " on this device";
}
