import { getAddress } from "ethers";
import {
  ALL_ROLES,
  appliedEventCount,
  applySubmission,
  checkLockGrants,
  CoreError,
  eventDataHash,
  EventTree,
  eventTreeRoot,
  MAX_INTAKE_AGE_BLOCKS,
  recoverSubmitter,
  Status,
  StatusTree,
  TransitionError,
  type AppliedEvent,
  type AcceptedSubmission,
  type Hasher,
  type Hex,
  type RegistryDomain,
  type Roles,
  type StatusRecord,
} from "../core";
import { nativeP256Verify, nativePublicKeyRecovery } from "../accel";
import { IssuanceSigners, scanBatchData, type EncodedSubmission } from "./encodedBatch";
import { AppliedEvents, ReplayState } from "./replayState";
import type { AnchoredBatch } from "../chain/read";

/** What an audit can find wrong with an anchored batch. Stable: reports and exit codes use them. */
export type DivergenceCode =
  | "BATCH_SEQUENCE"
  | "PREVIOUS_ROOT_MISMATCH"
  | "CALLDATA_UNREADABLE"
  | "EVENT_DATA_HASH_MISMATCH"
  | "BAD_SIGNATURE"
  | "ROLE_MISSING"
  | "INTAKE_BLOCK_OUT_OF_RANGE"
  | "DEADLINE_PASSED"
  | "INVALID_TRANSITION"
  | "EVENT_COUNT_MISMATCH"
  | "EVENT_ROOT_MISMATCH"
  | "STATUS_ROOT_MISMATCH"
  /** a published status list that cannot be fetched or decoded */
  | "LIST_UNREADABLE"
  /** a published status list not signed by the given list key */
  | "LIST_SIGNATURE_INVALID"
  /** a list names an anchor (root, transaction) the chain does not hold for its batch */
  | "LIST_ANCHOR_MISMATCH"
  /** a list's entry differs from the replayed state at the list's anchor */
  | "LIST_ENTRY_MISMATCH"
  /** a witness attested a root the replay did not reproduce cleanly (docs/spec.md 5.6): the witness is named */
  | "WITNESS_MISATTESTED";

/** What a divergence shows: the anchored and the recomputed value, and which submission (and event) of the batch. */
export interface Evidence {
  expected?: string;
  computed?: string;
  submission?: { index: number; signer?: Hex; event?: number };
  /** a published status list: its URL and form, and the index whose entry is wrong */
  list?: { url: string; form: string; index?: number };
  /** the witness whose attestation is wrong */
  witness?: Hex;
}

/** The first thing in the chain's history that a replay does not reproduce, with its evidence. */
export class Divergence extends Error {
  readonly expected?: string;
  readonly computed?: string;
  readonly submission?: Evidence["submission"];
  readonly list?: Evidence["list"];
  readonly witness?: Hex;

  constructor(
    readonly code: DivergenceCode,
    readonly batch: number,
    readonly transactionHash: Hex,
    message: string,
    evidence: Evidence = {},
  ) {
    super(`batch ${batch}: ${message}`);
    this.name = "Divergence";
    ({ expected: this.expected, computed: this.computed, submission: this.submission, list: this.list, witness: this.witness } = evidence);
  }

  toJSON() {
    const { code, batch, transactionHash, expected, computed, submission, list, witness } = this;
    return { code, batch, transactionHash, message: this.message, expected, computed, submission, list, witness };
  }
}

/** What one replayed batch holds: its signed submissions, each with its recovered signer, and the events they applied. */
export interface ReplayedContents {
  readonly submissions: AcceptedSubmission[];
  /** each submission's recovered signer, in order */
  readonly signers: Hex[];
  readonly applied: AppliedEvent[];
  /** their event tree (the mirror's receipts are proofs in it) */
  readonly eventTree: EventTree;
}

/**
 * A replayed batch's contents, kept as the bytes the replay worked on (its event data and applied
 * events) and decoded when first asked for: an audit replays every batch and asks for none, a
 * mirror serves its last few.
 */
class ReplayedBatch implements ReplayedContents {
  private decoded?: { submissions: AcceptedSubmission[]; applied: AppliedEvent[] };
  private tree?: EventTree;

  constructor(
    private readonly hasher: Hasher,
    private readonly encoded: readonly EncodedSubmission[],
    readonly signers: Hex[],
    private readonly events: AppliedEvents,
  ) {}

  get submissions(): AcceptedSubmission[] {
    return this.decode().submissions;
  }
  get applied(): AppliedEvent[] {
    return this.decode().applied;
  }
  get eventTree(): EventTree {
    return (this.tree ??= new EventTree(this.hasher, this.applied));
  }

  private decode() {
    return (this.decoded ??= { submissions: this.encoded.map((submission) => submission.submission()), applied: this.events.decode() });
  }
}

/** Which roles a signer held after every transaction of a block; the audit answers it from the role timeline. */
export type RolesAfter = (signer: Hex, block: number) => Roles;

/**
 * An independent re-execution of the registry: every anchored batch's submissions, decoded from
 * calldata, signature-checked, role-checked at their intake block, held to their deadline and applied by the same
 * state machine to a fresh tree; the event and status roots must come out as anchored.
 * Synchronous per batch, so readers (the mirror) never see half a batch: if a batch diverges
 * part-way, its changes are already in `state` though, and the mirror stops serving.
 */
export class Replayer {
  state = new ReplayState();
  /**
   * Findings that did not stop the replay (keepGoing): a signer without the role, event data or an
   * event tree that does not match what was logged. The status state still follows the chain
   * through them, so later batches are still checked.
   */
  readonly findings: Divergence[] = [];
  /** the last batch that replayed cleanly (the read API's AnchoredState) */
  anchor: AnchoredBatch | undefined;
  /** that batch's signed submissions (with their recovered signers) and the events they applied */
  contents: ReplayedContents | undefined;
  events = 0;
  private readonly listeners: ((changed: readonly number[]) => void)[] = [];
  private readonly issuanceSigners: IssuanceSigners;

  private constructor(
    private readonly hasher: Hasher,
    public tree: StatusTree,
    private readonly domain: RegistryDomain,
    private readonly rolesAfter: RolesAfter,
    /** record the findings that leave the replayed state intact and go on, instead of stopping at the first */
    private readonly keepGoing: boolean,
    /** every submission through the state machine, none from its bytes: the reference the tests hold the byte path to */
    private readonly stateMachineOnly: boolean,
  ) {
    this.issuanceSigners = new IssuanceSigners(domain, hasher, nativePublicKeyRecovery);
  }

  /** The number of the last cleanly replayed batch (0: none yet). */
  get batch(): number {
    return this.anchor?.batch ?? 0;
  }

  /** A record as of the last cleanly replayed batch. */
  record(index: number): StatusRecord | undefined {
    return this.state.record(index);
  }

  /** Indexes handed out as of the last replayed batch. */
  get size(): number {
    return this.state.nextIndex();
  }

  /** An index's status as of the last replayed batch (NONE when unused). */
  status(index: number): Status {
    return this.state.record(index)?.status ?? Status.None;
  }

  /**
   * Takes over `base`'s replayed state (a correction's base, replayed afresh), so that whoever holds
   * this replayer (the mirror's reader, the list publisher, the audit's list check) follows; its
   * listeners hear of every index whose status differs between the two.
   */
  rebaseOn(base: Replayer): void {
    const changed: number[] = [];
    for (let index = 0, size = Math.max(this.size, base.size); index < size; index++)
      if (this.status(index) !== base.status(index)) changed.push(index);
    ({ state: this.state, tree: this.tree, anchor: this.anchor, events: this.events, contents: this.contents } = base);
    this.findings.splice(0, this.findings.length, ...base.findings);
    for (const listener of this.listeners) listener(changed);
  }

  /** Calls `listener` after each cleanly replayed batch, synchronously, with the indexes it changed. */
  onAdvance(listener: (changed: readonly number[]) => void): void {
    this.listeners.push(listener);
  }

  static create(
    hasher: Hasher,
    depth: number,
    domain: RegistryDomain,
    rolesAfter: RolesAfter,
    options: { keepGoing?: boolean; stateMachineOnly?: boolean } = {},
  ): Replayer {
    const tree = new StatusTree(hasher, depth);
    return new Replayer(hasher, tree, domain, rolesAfter, options.keepGoing ?? false, options.stateMachineOnly ?? false);
  }

  /**
   * Applies one anchored batch, or throws the Divergence that stops the replay: the first finding,
   * or with keepGoing the first one after which the replayed state can no longer follow the chain.
   */
  apply(anchor: AnchoredBatch): void {
    const fail: Fail = (code, message, expected, computed, submission) => {
      throw new Divergence(code, anchor.batch, anchor.transactionHash, message, { expected, computed, submission });
    };
    // a finding that leaves the replayed state intact: recorded when going on, else the end
    const note: Fail = (code, message, expected, computed, submission) => {
      if (!this.keepGoing) return fail(code, message, expected, computed, submission);
      this.findings.push(new Divergence(code, anchor.batch, anchor.transactionHash, message, { expected, computed, submission }));
      return undefined as never;
    };
    const submissions = this.submissionsOf(anchor, fail, note);
    const signers: Hex[] = [];
    const applied = new AppliedEvents(appliedBound(submissions));
    submissions.forEach((submission, index) => this.applySubmission(anchor, submission, index, { fail, note, signers, applied }));
    if (applied.count !== anchor.eventCount)
      note("EVENT_COUNT_MISMATCH", "calldata applies a different number of events", String(anchor.eventCount), String(applied.count));
    const leaves = applied.leaves(this.hasher);
    const eventRoot = eventTreeRoot(this.hasher, leaves.events);
    if (eventRoot !== anchor.eventRoot)
      note("EVENT_ROOT_MISMATCH", "the calldata's events do not give the anchored event root", anchor.eventRoot, eventRoot);
    const statusRoot = this.tree.applyLeaves(leaves.indexes, leaves.records);
    if (statusRoot !== anchor.statusRoot)
      fail("STATUS_ROOT_MISMATCH", "replaying the batch gives another status root", anchor.statusRoot, statusRoot);
    this.anchor = anchor;
    this.events += applied.count;
    this.contents = new ReplayedBatch(this.hasher, submissions, signers, applied);
    if (this.listeners.length === 0) return;
    const changed = Array.from(leaves.indexes);
    for (const listener of this.listeners) listener(changed);
  }

  /** The batch's signed submissions, once it is known to follow the replayed one and its calldata is the logged one. */
  private submissionsOf(anchor: AnchoredBatch, fail: Fail, note: Fail): EncodedSubmission[] {
    this.checkSequence(anchor, fail);
    const data = anchor.eventData;
    if (!(data instanceof Uint8Array)) return fail("CALLDATA_UNREADABLE", data.unreadable);
    const dataHash = eventDataHash(this.hasher, data);
    if (dataHash !== anchor.eventDataHash)
      note("EVENT_DATA_HASH_MISMATCH", "calldata does not hash to the logged eventDataHash", anchor.eventDataHash, dataHash);
    try {
      return scanBatchData(data);
    } catch (error) {
      return fail("CALLDATA_UNREADABLE", `event data does not decode: ${(error as Error).message}`);
    }
  }

  /**
   * The batch follows the replayed one and builds on its root; a correction builds on the struck
   * root (the contract checked it) and must re-base on the replayed batch.
   */
  private checkSequence(anchor: AnchoredBatch, fail: Fail): void {
    const base = anchor.correction?.base;
    if (base !== undefined) {
      const message = `the correction re-bases on batch ${base}, the replay stands at ${this.batch}`;
      if (base !== this.batch) fail("BATCH_SEQUENCE", message, String(base), String(this.batch));
      return;
    }
    if (anchor.batch !== this.batch + 1)
      fail("BATCH_SEQUENCE", `expected batch ${this.batch + 1} next`, String(this.batch + 1), String(anchor.batch));
    if (anchor.previousRoot !== this.tree.root)
      fail("PREVIOUS_ROOT_MISMATCH", "does not build on the replayed root", this.tree.root, anchor.previousRoot);
  }

  /**
   * A submission's signer recovered, its timing and roles checked at its intake block, and its
   * events applied: straight from its bytes when it only issues and nothing in it can be refused,
   * else by the state machine, which also says why a submission is refused.
   */
  private applySubmission(anchor: AnchoredBatch, encoded: EncodedSubmission, index: number, replay: BatchReplay): void {
    const fast = encoded.issuesOnly && !this.stateMachineOnly ? this.issuanceSigners.signer(encoded) : undefined;
    const signer = fast?.hex ?? this.signerOf(encoded.submission(), index, replay.fail);
    replay.signers.push(signer);
    checkTiming(anchor, encoded, { index, signer }, replay.note);
    if (fast) {
      const mayIssue = this.rolesAfter(signer, encoded.intakeBlock).issuer;
      const context = { signer: fast, batch: anchor.batch, slots: 2 ** this.tree.depth, mayIssue };
      if (this.state.issue(encoded, context, replay.applied)) return;
    }
    const submission = encoded.submission();
    this.checkGrants(signer, submission, index, replay.note);
    const result = this.transition(anchor, submission, index, signer, replay.fail, replay.note);
    this.state.commit(result.changes);
    for (const draft of result.applied) replay.applied.addEncoded({ ...draft, position: 0 });
  }

  /** The state machine's outcome; with keepGoing, a signer without the role is noted and the submission applied as anchored. */
  private transition(anchor: AnchoredBatch, submission: AcceptedSubmission, index: number, signer: Hex, fail: Fail, note: Fail) {
    const context = { signer, roles: this.rolesAfter(signer, submission.intakeBlock), batch: anchor.batch, slots: 2 ** this.tree.depth };
    try {
      return applySubmission(this.state, context, submission);
    } catch (error) {
      if (!(error instanceof TransitionError && error.code === "ROLE_REQUIRED" && this.keepGoing))
        return refusal(error, index, signer, fail);
      // the publisher anchored it, so the chain's state includes it: noted, then applied as anchored
      note(...refusalFinding(error, index, signer)!);
      try {
        return applySubmission(this.state, { ...context, roles: ALL_ROLES }, submission);
      } catch (again) {
        return refusal(again, index, signer, fail);
      }
    }
  }

  /** Every lock carries its device's grant to the signer (docs/spec.md 4.6): a finding that leaves the state as anchored. */
  private checkGrants(signer: Hex, submission: AcceptedSubmission, index: number, note: Fail): void {
    try {
      checkLockGrants(this.domain, signer, submission, nativeP256Verify);
    } catch (error) {
      note(...refusalFinding(error, index, signer)!);
    }
  }

  /** The recovered signer; anchored signatures carry v as 27 or 28 (docs/spec.md 4.2). */
  private signerOf(submission: AcceptedSubmission, index: number, fail: Fail): Hex {
    const v = submission.signature.slice(-2);
    if (v !== "1b" && v !== "1c")
      fail("BAD_SIGNATURE", `submission ${index}: v is 0x${v}, anchored signatures carry 27 or 28`, undefined, undefined, { index });
    try {
      return recoverSubmitter(this.domain, submission, this.hasher, nativePublicKeyRecovery);
    } catch (error) {
      return fail("BAD_SIGNATURE", `submission ${index}: ${(error as Error).message}`, undefined, undefined, { index });
    }
  }
}

/**
 * A submission's anchor must come after its intake block and at most MAX_INTAKE_AGE_BLOCKS later,
 * in a block no later than its signed deadline (docs/spec.md 5.2). Findings that leave the state intact.
 */
function checkTiming(
  anchor: AnchoredBatch,
  submission: Pick<AcceptedSubmission, "intakeBlock" | "deadline">,
  by: { index: number; signer: Hex },
  note: Fail,
): void {
  const { intakeBlock, deadline } = submission;
  // built only for a finding: the checksum address costs a keccak per submission
  const evidence = () => ({ index: by.index, signer: getAddress(by.signer) as Hex });
  if (intakeBlock >= anchor.blockNumber || anchor.blockNumber - intakeBlock > MAX_INTAKE_AGE_BLOCKS)
    note(
      "INTAKE_BLOCK_OUT_OF_RANGE",
      `submission ${by.index}: intake block ${intakeBlock} is not within the ${MAX_INTAKE_AGE_BLOCKS} blocks before its anchor's block ${anchor.blockNumber}`,
      `${Math.max(0, anchor.blockNumber - MAX_INTAKE_AGE_BLOCKS)}..${anchor.blockNumber - 1}`,
      String(intakeBlock),
      evidence(),
    );
  if (anchor.timestamp > deadline)
    note(
      "DEADLINE_PASSED",
      `submission ${by.index}: anchored at ${anchor.timestamp}, after its signed deadline ${deadline}`,
      `<= ${deadline}`,
      String(anchor.timestamp),
      evidence(),
    );
}

/** How a batch's replay reports, and what it gathers: each submission's signer and the applied events. */
interface BatchReplay {
  fail: Fail;
  note: Fail;
  signers: Hex[];
  applied: AppliedEvents;
}

/** The most events the submissions can apply: one per event, two per re-issue (the supersede too), however many they do. */
function appliedBound(submissions: readonly EncodedSubmission[]): number {
  let bound = 0;
  for (const submission of submissions)
    bound += submission.issuesOnly
      ? submission.eventCount
      : submission.submission().events.reduce((sum, event) => sum + appliedEventCount(event.kind), 0);
  return bound;
}

type Fail = (code: DivergenceCode, message: string, expected?: string, computed?: string, submission?: Divergence["submission"]) => never;

/** A submission the state machine refused: the divergence that names it, or the error itself if it is not a refusal. */
function refusal(error: unknown, index: number, signer: Hex, fail: Fail): never {
  const finding = refusalFinding(error, index, signer);
  if (!finding) throw error;
  return fail(...finding);
}

function refusalFinding(error: unknown, index: number, signer: Hex): Parameters<Fail> | undefined {
  const by = { index, signer: getAddress(signer) as Hex };
  if (error instanceof TransitionError) {
    const code = error.code === "ROLE_REQUIRED" ? "ROLE_MISSING" : "INVALID_TRANSITION";
    return [
      code,
      `submission ${index} by ${signer}: ${error.code}: ${error.message}`,
      undefined,
      undefined,
      { ...by, event: error.eventIndex },
    ];
  }
  if (error instanceof CoreError)
    return ["INVALID_TRANSITION", `submission ${index} by ${signer}: ${error.message}`, undefined, undefined, by];
  return undefined;
}
