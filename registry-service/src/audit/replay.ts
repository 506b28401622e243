import { getAddress } from "ethers";
import {
  applySubmission,
  CoreError,
  decodeBatchData,
  eventDataHash,
  EventTree,
  MemoryState,
  recoverSubmitter,
  StatusTree,
  TransitionError,
  type AppliedEvent,
  type Hasher,
  type Hex,
  type RegistryDomain,
  type Roles,
  type SubmissionOutcome,
  type StatusRecord,
  type Submission,
} from "../core";
import { nativePublicKeyRecovery } from "../accel";
import type { AnchoredBatch, ChainPosition } from "../chain/read";

/** What an audit can find wrong with an anchored batch. Stable: reports and exit codes use them. */
export type DivergenceCode =
  | "BATCH_SEQUENCE"
  | "PREVIOUS_ROOT_MISMATCH"
  | "CALLDATA_UNREADABLE"
  | "EVENT_DATA_HASH_MISMATCH"
  | "BAD_SIGNATURE"
  | "ROLE_MISSING"
  | "INVALID_TRANSITION"
  | "EVENT_COUNT_MISMATCH"
  | "EVENT_ROOT_MISMATCH"
  | "STATUS_ROOT_MISMATCH";

/** What a divergence shows: the anchored and the recomputed value, and which submission (and event) of the batch. */
export interface Evidence {
  expected?: string;
  computed?: string;
  submission?: { index: number; signer?: Hex; event?: number };
}

/** The first thing in the chain's history that a replay does not reproduce, with its evidence. */
export class Divergence extends Error {
  readonly expected?: string;
  readonly computed?: string;
  readonly submission?: Evidence["submission"];

  constructor(
    readonly code: DivergenceCode,
    readonly batch: number,
    readonly transactionHash: Hex,
    message: string,
    evidence: Evidence = {},
  ) {
    super(`batch ${batch}: ${message}`);
    this.name = "Divergence";
    ({ expected: this.expected, computed: this.computed, submission: this.submission } = evidence);
  }

  toJSON() {
    const { code, batch, transactionHash, expected, computed, submission } = this;
    return { code, batch, transactionHash, message: this.message, expected, computed, submission };
  }
}

/** Which roles a signer held at a chain position; the audit answers it from the role timeline. */
export type RolesAt = (signer: Hex, at: ChainPosition) => Roles;

/**
 * An independent re-execution of the registry: every anchored batch's submissions, decoded from
 * calldata, signature-checked, role-checked at the anchoring transaction and applied by the same
 * state machine to a fresh tree; the event and status roots must come out as anchored.
 * Synchronous per batch, so readers (the mirror) never see half a batch: if a batch diverges
 * part-way, its changes are already in `state` though, and the mirror stops serving.
 */
export class Replayer {
  readonly state = new MemoryState();
  /**
   * Findings that did not stop the replay (keepGoing): a signer without the role, event data or an
   * event tree that does not match what was logged. The status state still follows the chain
   * through them, so later batches are still checked.
   */
  readonly findings: Divergence[] = [];
  batch = 0;
  /** the last batch that replayed cleanly */
  lastAnchor?: AnchoredBatch;
  events = 0;

  private constructor(
    private readonly hasher: Hasher,
    readonly tree: StatusTree,
    private readonly domain: RegistryDomain,
    private readonly rolesAt: RolesAt,
    /** record the findings that leave the replayed state intact and go on, instead of stopping at the first */
    private readonly keepGoing: boolean,
  ) {}

  /** The last cleanly replayed anchor (the read API's AnchoredState). */
  get anchor(): AnchoredBatch | undefined {
    return this.lastAnchor;
  }

  /** A record as of the last cleanly replayed batch. */
  record(index: number): StatusRecord | undefined {
    return this.state.record(index);
  }

  static create(hasher: Hasher, depth: number, domain: RegistryDomain, rolesAt: RolesAt, options: { keepGoing?: boolean } = {}): Replayer {
    return new Replayer(hasher, new StatusTree(hasher, depth), domain, rolesAt, options.keepGoing ?? false);
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
    const applied = this.applySubmissions(anchor, this.submissionsOf(anchor, fail, note), fail, note);
    if (applied.length !== anchor.eventCount)
      note("EVENT_COUNT_MISMATCH", "calldata applies a different number of events", String(anchor.eventCount), String(applied.length));
    const eventRoot = new EventTree(this.hasher, applied).root;
    if (eventRoot !== anchor.eventRoot)
      note("EVENT_ROOT_MISMATCH", "the calldata's events do not give the anchored event root", anchor.eventRoot, eventRoot);
    const statusRoot = this.tree.applyRecords(applied.map((event) => event.record));
    if (statusRoot !== anchor.statusRoot)
      fail("STATUS_ROOT_MISMATCH", "replaying the batch gives another status root", anchor.statusRoot, statusRoot);
    this.batch = anchor.batch;
    this.lastAnchor = anchor;
    this.events += applied.length;
  }

  /** The batch's signed submissions, once it is known to follow the replayed one and its calldata is the logged one. */
  private submissionsOf(anchor: AnchoredBatch, fail: Fail, note: Fail): Submission[] {
    if (anchor.batch !== this.batch + 1)
      fail("BATCH_SEQUENCE", `expected batch ${this.batch + 1} next`, String(this.batch + 1), String(anchor.batch));
    if (anchor.previousRoot !== this.tree.root)
      fail("PREVIOUS_ROOT_MISMATCH", "does not build on the replayed root", this.tree.root, anchor.previousRoot);
    const data = anchor.eventData;
    if (!(data instanceof Uint8Array)) return fail("CALLDATA_UNREADABLE", data.unreadable);
    const dataHash = eventDataHash(this.hasher, data);
    if (dataHash !== anchor.eventDataHash)
      note("EVENT_DATA_HASH_MISMATCH", "calldata does not hash to the logged eventDataHash", anchor.eventDataHash, dataHash);
    try {
      return decodeBatchData(data);
    } catch (error) {
      return fail("CALLDATA_UNREADABLE", `event data does not decode: ${(error as Error).message}`);
    }
  }

  /** Each submission's signer recovered, its roles checked at the anchoring transaction, and its events applied. */
  private applySubmissions(anchor: AnchoredBatch, submissions: Submission[], fail: Fail, note: Fail): AppliedEvent[] {
    const applied: AppliedEvent[] = [];
    submissions.forEach((submission, index) => {
      let signer: Hex;
      try {
        signer = recoverSubmitter(this.domain, submission, this.hasher, nativePublicKeyRecovery);
      } catch (error) {
        return fail("BAD_SIGNATURE", `submission ${index}: ${(error as Error).message}`, undefined, undefined, { index });
      }
      const context = { signer, roles: this.rolesAt(signer, anchor), batch: anchor.batch, slots: 2 ** this.tree.depth };
      let result: SubmissionOutcome;
      try {
        result = applySubmission(this.state, context, submission);
      } catch (error) {
        if (!(error instanceof TransitionError && error.code === "ROLE_REQUIRED" && this.keepGoing))
          return refusal(error, index, signer, fail);
        // the publisher anchored it, so the chain's state includes it: noted, then applied as anchored
        note(...refusalFinding(error, index, signer)!);
        try {
          result = applySubmission(this.state, { ...context, roles: ALL_ROLES }, submission);
        } catch (again) {
          return refusal(again, index, signer, fail);
        }
      }
      this.state.commit(result.changes);
      for (const draft of result.applied) applied.push({ ...draft, position: applied.length });
    });
    return applied;
  }
}

type Fail = (code: DivergenceCode, message: string, expected?: string, computed?: string, submission?: Divergence["submission"]) => never;

const ALL_ROLES: Roles = { issuer: true, operator: true };

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
