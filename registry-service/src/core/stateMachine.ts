import type { Hex } from "./bytes";
import { CoreError } from "./errors";
import { AppliedKind, EventKind, checkEvent, type AppliedEvent, type StatusEvent, type Submission } from "./events";
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
  | "DUPLICATE_NONCE";

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

/** Read side of the registry state; a service backs it with its store, an auditor with memory. */
export interface StateReader {
  record(index: number): StatusRecord | undefined;
  deviceIndex(deviceKeyHash: Hex): number | undefined;
  holderIndex(holderRef: Hex): number | undefined;
  nextIndex(): number;
  seen(signer: Hex, nonce: Hex): boolean;
}

/** What applying one submission changes, to be committed by the owner of the state. */
export interface StateChanges {
  records: Map<number, StatusRecord>;
  devices: Map<Hex, number>;
  holders: Map<Hex, number>;
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
  const { signer, batch } = context;
  const { nonce } = submission;
  const changes: StateChanges = {
    records: new Map(),
    devices: new Map(),
    holders: new Map(),
    nextIndex: state.nextIndex(),
    submission: { signer, nonce },
  };
  if (state.seen(signer, nonce)) throw new TransitionError("DUPLICATE_NONCE", `nonce ${nonce} was already used by ${signer}`, 0);
  const view = {
    record: (i: number) => changes.records.get(i) ?? state.record(i),
    device: (d: Hex) => changes.devices.get(d) ?? state.deviceIndex(d),
    holder: (h: Hex) => changes.holders.get(h) ?? state.holderIndex(h),
  };
  const applied: AppliedDraft[] = [];
  const change = (kind: AppliedKind, record: StatusRecord) => {
    changes.records.set(record.index, record);
    applied.push({ kind, signer, nonce, record });
  };

  submission.events.forEach((event, at) => {
    checkEvent(event, `events[${at}]`);
    const fail = (code: TransitionErrorCode, message: string): never => {
      throw new TransitionError(code, message, at);
    };
    const needs = requiredRole(event.kind);
    if (!context.roles[needs])
      fail("ROLE_REQUIRED", `${EventKind[event.kind]} needs the ${SUBMITTER_ROLES[needs]}, which ${signer} does not hold`);

    if (event.kind === EventKind.Issue) {
      const onDevice = view.device(event.deviceKeyHash);
      const current = onDevice === undefined ? undefined : view.record(onDevice);
      const previous = view.holder(event.holderRef);
      if (current && current.status !== Status.Revoked && onDevice !== previous) {
        fail("DEVICE_IN_USE", `device ${event.deviceKeyHash} already carries credential ${onDevice} of another holder`);
      }
      const old = previous === undefined ? undefined : view.record(previous);
      if (old && old.status !== Status.Revoked)
        change(AppliedKind.Supersede, { ...old, status: Status.Revoked, reason: Reason.Superseded, batch });
      const index = changes.nextIndex++;
      change(AppliedKind.Issue, {
        index,
        credentialCommitment: event.credentialCommitment,
        deviceKeyHash: event.deviceKeyHash,
        status: Status.Active,
        reason: Reason.None,
        batch,
      });
      changes.holders.set(event.holderRef, index);
      changes.devices.set(event.deviceKeyHash, index);
      return;
    }

    const index = event.kind === EventKind.LockDevice ? view.device(event.deviceKeyHash) : event.index;
    if (index === undefined) return fail("UNKNOWN_DEVICE", `no credential was ever issued to device ${event.deviceKeyHash}`);
    const record = view.record(index);
    if (!record) return fail("UNKNOWN_INDEX", `status index ${index} was never issued`);
    if (record.status === Status.Revoked) fail("CREDENTIAL_REVOKED", `credential ${index} is revoked; revocation is final`);
    switch (event.kind) {
      case EventKind.Suspend:
      case EventKind.LockDevice:
        if (record.status === Status.Suspended) fail("ALREADY_SUSPENDED", `credential ${index} is already suspended`);
        change(event.kind === EventKind.Suspend ? AppliedKind.Suspend : AppliedKind.LockDevice, {
          ...record,
          status: Status.Suspended,
          reason: event.kind === EventKind.Suspend ? event.reason : Reason.LostDevice,
          batch,
        });
        return;
      case EventKind.Reinstate:
        if (record.status !== Status.Suspended) fail("NOT_SUSPENDED", `credential ${index} is not suspended`);
        change(AppliedKind.Reinstate, { ...record, status: Status.Active, reason: Reason.None, batch });
        return;
      case EventKind.Revoke:
        change(AppliedKind.Revoke, { ...record, status: Status.Revoked, reason: event.reason, batch });
        return;
    }
  });
  if (applied.length === 0) throw new CoreError("INVALID_FIELD", "a submission carries at least one event");
  return { applied, changes };
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
  private readonly holders = new Map<Hex, number>();
  private readonly nonces = new Set<string>();
  private next = 0;

  record(index: number) {
    return this.records.get(index);
  }
  deviceIndex(deviceKeyHash: Hex) {
    return this.devices.get(deviceKeyHash);
  }
  holderIndex(holderRef: Hex) {
    return this.holders.get(holderRef);
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
    for (const [holder, index] of changes.holders) this.holders.set(holder, index);
    this.next = changes.nextIndex;
    this.nonces.add(`${changes.submission.signer}:${changes.submission.nonce}`);
  }
}

/** Convenience for tests and tools: the event shape with every unused field zero. */
export type { StatusEvent };
