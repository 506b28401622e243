import type { Hex } from "./bytes";
import { CoreError } from "./errors";
import { AppliedKind, EventKind, checkEvent, isIssuance, type AppliedEvent, type StatusEvent, type Submission } from "./events";
import { Reason, Status, type StatusRecord } from "./record";
import { requiredRole, SUBMITTER_ROLES, type Roles } from "./roles";

/** Why a submission cannot be applied (docs/spec.md 4.3). Stable: the HTTP layer maps them. */
export type TransitionErrorCode =
  | "ROLE_REQUIRED"
  | "UNKNOWN_INDEX"
  | "UNKNOWN_DEVICE"
  | "CREDENTIAL_REVOKED"
  | "ALREADY_SUSPENDED"
  | "NOT_SUSPENDED"
  | "DEVICE_IN_USE"
  | "DUPLICATE_NONCE"
  | "REGISTRY_FULL"
  | "SUSPENSION_CHANGED"
  | "LOCK_NOT_GRANTED";

export class TransitionError extends Error {
  constructor(
    readonly code: TransitionErrorCode,
    message: string,
    /** position of the offending event inside its submission */
    readonly eventIndex: number,
  ) {
    super(`events[${eventIndex}]: ${message}`);
    this.name = "TransitionError";
  }
}

/** Read side of the registry state; the service backs it with its intake state, an auditor with memory. */
export interface StateReader {
  record(index: number): StatusRecord | undefined;
  deviceIndex(deviceKeyHash: Hex): number | undefined;
  nextIndex(): number;
  seen(signer: Hex, nonce: Hex): boolean;
}

/** What applying one submission changes, to be committed by the owner of the state. */
export interface StateChanges {
  records: Map<number, StatusRecord>;
  devices: Map<Hex, number>;
  nextIndex: number;
  submission: { signer: Hex; nonce: Hex };
}

/** An applied event before the batch gives it its position. */
export interface AppliedDraft {
  kind: AppliedKind;
  signer: Hex;
  nonce: Hex;
  record: StatusRecord;
}

export interface SubmissionContext {
  signer: Hex;
  /** roles the signer holds (at intake: now; in an audit: at the anchoring block) */
  roles: Roles;
  /** the batch the submission goes into: every record it changes carries this number */
  batch: number;
  /** status slots the registry has (2^depth): an issuance past the last one is REGISTRY_FULL */
  slots: number;
}

/**
 * Applies one signed submission to the state, all or nothing: returns the applied events and the
 * changes, or throws TransitionError for the first event that breaks a rule. Pure: the caller
 * commits the changes. The same function runs at the service's intake and in the auditor's replay.
 */
export function applySubmission(
  state: StateReader,
  context: SubmissionContext,
  submission: Pick<Submission, "nonce" | "events">,
): { applied: AppliedDraft[]; changes: StateChanges } {
  const { signer } = context;
  const { nonce } = submission;
  if (state.seen(signer, nonce)) throw new TransitionError("DUPLICATE_NONCE", `nonce ${nonce} was already used by ${signer}`, 0);
  const application = new Application(state, context, nonce);
  submission.events.forEach((event, at) => application.apply(event, at));
  if (application.applied.length === 0) throw new CoreError("INVALID_FIELD", "a submission carries at least one event");
  return { applied: application.applied, changes: application.changes };
}

type Fail = (code: TransitionErrorCode, message: string) => never;

/** One submission being applied: its changes on top of the state, and the events applied so far. */
class Application {
  readonly applied: AppliedDraft[] = [];
  readonly changes: StateChanges;

  constructor(
    private readonly state: StateReader,
    private readonly context: SubmissionContext,
    private readonly nonce: Hex,
  ) {
    this.changes = {
      records: new Map(),
      devices: new Map(),
      nextIndex: state.nextIndex(),
      submission: { signer: context.signer, nonce },
    };
  }

  apply(event: StatusEvent, at: number): void {
    checkEvent(event, `events[${at}]`);
    const fail: Fail = (code, message) => {
      throw new TransitionError(code, message, at);
    };
    const needs = requiredRole(event.kind);
    if (!this.context.roles[needs]) {
      fail("ROLE_REQUIRED", `${EventKind[event.kind]} needs the ${SUBMITTER_ROLES[needs]}, which ${this.context.signer} does not hold`);
    }
    if (isIssuance(event.kind)) this.issue(event, fail);
    else this.transition(event, fail);
  }

  /**
   * Issues a new credential to a device; a re-issue also supersedes the live credential it names
   * (the holder's, on the device it replaces or on this one). A device carries one live credential.
   */
  private issue(event: StatusEvent, fail: Fail): void {
    const { batch } = this.context;
    const superseded = event.kind === EventKind.Reissue ? this.target(event, fail) : undefined;
    const onDevice = this.device(event.deviceKeyHash);
    const current = onDevice === undefined ? undefined : this.record(onDevice);
    if (current && current.status !== Status.Revoked && onDevice !== superseded?.index) {
      fail("DEVICE_IN_USE", `device ${event.deviceKeyHash} already carries credential ${onDevice}: re-issue that one, or revoke it first`);
    }
    if (this.changes.nextIndex >= this.context.slots) fail("REGISTRY_FULL", `all ${this.context.slots} status slots are issued`);
    if (superseded) this.change(AppliedKind.Supersede, { ...superseded, status: Status.Revoked, reason: Reason.Superseded, batch });
    const index = this.changes.nextIndex++;
    const { credentialCommitment, deviceKeyHash } = event;
    this.change(AppliedKind.Issue, { index, credentialCommitment, deviceKeyHash, status: Status.Active, reason: Reason.None, batch });
    this.changes.devices.set(event.deviceKeyHash, index);
  }

  /** Suspends, locks, reinstates or revokes an issued credential. */
  private transition(event: StatusEvent, fail: Fail): void {
    const record = this.target(event, fail);
    const { index } = record;
    const { batch } = this.context;
    switch (event.kind) {
      case EventKind.Suspend:
        if (record.status === Status.Suspended) fail("ALREADY_SUSPENDED", `credential ${index} is already suspended`);
        this.change(AppliedKind.Suspend, { ...record, status: Status.Suspended, reason: event.reason, batch });
        return;
      case EventKind.LockDevice:
        // a lock always takes hold: on a suspended credential it records the lost device (idempotent)
        this.change(AppliedKind.LockDevice, { ...record, status: Status.Suspended, reason: Reason.LostDevice, batch });
        return;
      case EventKind.Reinstate:
        if (record.status !== Status.Suspended) fail("NOT_SUSPENDED", `credential ${index} is not suspended`);
        if (record.reason !== event.reason) {
          fail(
            "SUSPENSION_CHANGED",
            `credential ${index} is suspended for ${Reason[record.reason]}, not ${Reason[event.reason]}: lift that one knowingly`,
          );
        }
        this.change(AppliedKind.Reinstate, { ...record, status: Status.Active, reason: Reason.None, batch });
        return;
      case EventKind.Revoke:
        this.change(AppliedKind.Revoke, { ...record, status: Status.Revoked, reason: event.reason, batch });
        return;
    }
  }

  /** The live credential an event is about: by its index (a re-issue: the one it supersedes), or (a lost-device lock) by its device. */
  private target(event: StatusEvent, fail: Fail): StatusRecord {
    const index = event.kind === EventKind.LockDevice ? this.device(event.deviceKeyHash) : event.index;
    if (index === undefined) return fail("UNKNOWN_DEVICE", `no credential was ever issued to device ${event.deviceKeyHash}`);
    const record = this.record(index);
    if (!record) return fail("UNKNOWN_INDEX", `status index ${index} was never issued`);
    if (record.status === Status.Revoked) fail("CREDENTIAL_REVOKED", `credential ${index} is revoked; revocation is final`);
    return record;
  }

  /** Records a change (its record carries the submission's batch, as every changed record does). */
  private change(kind: AppliedKind, record: StatusRecord): void {
    this.changes.records.set(record.index, record);
    this.applied.push({ kind, signer: this.context.signer, nonce: this.nonce, record });
  }

  private record(index: number): StatusRecord | undefined {
    return this.changes.records.get(index) ?? this.state.record(index);
  }
  private device(deviceKeyHash: Hex): number | undefined {
    return this.changes.devices.get(deviceKeyHash) ?? this.state.deviceIndex(deviceKeyHash);
  }
}

/** A batch's applied events in order, each with its position (its leaf in the event tree). */
export function positionedEvents(submissions: readonly { applied: readonly AppliedDraft[] }[]): AppliedEvent[] {
  return submissions.flatMap((submission) => submission.applied).map((draft, position) => ({ ...draft, position }));
}

/** What applying a submission gives: its applied events and the changes to commit. */
export type SubmissionOutcome = ReturnType<typeof applySubmission>;

/**
 * The same outcome in another batch. A submission's effects depend on its batch only through the
 * number every record it changes carries, so moving it to the next batch (the open one is full)
 * re-stamps its records instead of applying it again.
 */
export function moveToBatch(outcome: SubmissionOutcome, batch: number): SubmissionOutcome {
  const stamp = (record: StatusRecord): StatusRecord => ({ ...record, batch });
  return {
    applied: outcome.applied.map((draft) => ({ ...draft, record: stamp(draft.record) })),
    changes: { ...outcome.changes, records: new Map([...outcome.changes.records].map(([index, record]) => [index, stamp(record)])) },
  };
}

/** The whole registry state in memory: the auditor's and the tests' StateReader. */
export class MemoryState implements StateReader {
  private readonly records = new Map<number, StatusRecord>();
  private readonly devices = new Map<Hex, number>();
  private readonly nonces = new Set<string>();
  private next = 0;

  record(index: number) {
    return this.records.get(index);
  }
  deviceIndex(deviceKeyHash: Hex) {
    return this.devices.get(deviceKeyHash);
  }
  nextIndex() {
    return this.next;
  }
  seen(signer: Hex, nonce: Hex) {
    return this.nonces.has(`${signer}:${nonce}`);
  }

  commit(changes: StateChanges): void {
    for (const [index, record] of changes.records) this.records.set(index, record);
    for (const [device, index] of changes.devices) this.devices.set(device, index);
    this.next = changes.nextIndex;
    this.nonces.add(`${changes.submission.signer}:${changes.submission.nonce}`);
  }
}

/** Convenience for tests and tools: the event shape with every unused field zero. */
export type { StatusEvent };
