import { expect } from "chai";
import { UNCHECKED_GRANT } from "../support/devices";
import { id } from "ethers";
import {
  AppliedKind,
  applySubmission,
  blankEvent,
  Channel,
  EventKind,
  MemoryState,
  moveToBatch,
  Reason,
  Status,
  TransitionError,
  type Hex,
  type StatusEvent,
  type TransitionErrorCode,
} from "../../registry-service/src/core";

const SLOTS = 2 ** 20;
const ISSUER = { signer: "0x00000000000000000000000000000000000000aa" as Hex, roles: { issuer: true, operator: false }, slots: SLOTS };
const OPERATOR = { signer: "0x00000000000000000000000000000000000000bb" as Hex, roles: { issuer: false, operator: true }, slots: SLOTS };
const h = (label: string) => id(label) as Hex;

const issue = (holder: string, device: string): StatusEvent => ({
  ...blankEvent(EventKind.Issue),
  credentialCommitment: h(`commitment ${holder} ${device}`),
  deviceKeyHash: h(device),
  channel: Channel.ChipCard,
});
const reissue = (index: number, holder: string, device: string): StatusEvent => ({
  ...issue(holder, device),
  kind: EventKind.Reissue,
  index,
});
const suspend = (index: number): StatusEvent => ({ ...blankEvent(EventKind.Suspend), index, reason: Reason.HolderRequest });
const reinstate = (index: number, reason = Reason.HolderRequest): StatusEvent => ({ ...blankEvent(EventKind.Reinstate), index, reason });
const revoke = (index: number): StatusEvent => ({ ...blankEvent(EventKind.Revoke), index, reason: Reason.KeyCompromise });
const lock = (device: string): StatusEvent => ({ ...blankEvent(EventKind.LockDevice), deviceKeyHash: h(device), grant: UNCHECKED_GRANT });

type Step = { who: typeof ISSUER; events: readonly StatusEvent[] };

/** Applies submissions in order, committing each; returns the state and every applied draft. */
function run(steps: readonly Step[], batch = 1) {
  const state = new MemoryState();
  const applied = steps.flatMap(({ who, events }, n) => {
    const result = applySubmission(state, { ...who, batch }, { nonce: h(`nonce ${n}`), events: [...events] });
    state.commit(result.changes);
    return result.applied;
  });
  return { state, applied };
}

function expectRefused(code: TransitionErrorCode, steps: readonly Step[], last: Step) {
  const { state } = run(steps);
  const before = JSON.stringify([state.nextIndex(), [0, 1, 2].map((i) => state.record(i))]);
  let error: unknown;
  try {
    applySubmission(state, { ...last.who, batch: 2 }, { nonce: h("last"), events: [...last.events] });
  } catch (e) {
    error = e;
  }
  expect(error).to.be.instanceOf(TransitionError);
  expect((error as TransitionError).code).to.equal(code);
  expect(JSON.stringify([state.nextIndex(), [0, 1, 2].map((i) => state.record(i))])).to.equal(before);
}

describe("state machine (docs/spec.md 4.3)", () => {
  it("issues sequential indexes, ACTIVE, stamped with the batch", () => {
    const { state, applied } = run([{ who: ISSUER, events: [issue("alice", "phone A"), issue("bob", "phone B")] }], 7);
    expect(applied.map((a) => [a.kind, a.record.index, a.record.status, a.record.batch])).to.deep.equal([
      [AppliedKind.Issue, 0, Status.Active, 7],
      [AppliedKind.Issue, 1, Status.Active, 7],
    ]);
    expect(state.nextIndex()).to.equal(2);
    expect(state.deviceIndex(h("phone B"))).to.equal(1);
    expect(applied[0]).to.include({ signer: ISSUER.signer, nonce: h("nonce 0") });
  });

  it("re-issuing to a new phone revokes the credential it names as SUPERSEDED first", () => {
    const { state, applied } = run([
      { who: ISSUER, events: [issue("alice", "phone A"), issue("bob", "phone B")] },
      { who: ISSUER, events: [reissue(0, "alice", "phone C")] },
    ]);
    expect(applied.slice(2).map((a) => [a.kind, a.record.index, a.record.status, a.record.reason])).to.deep.equal([
      [AppliedKind.Supersede, 0, Status.Revoked, Reason.Superseded],
      [AppliedKind.Issue, 2, Status.Active, Reason.None],
    ]);
    expect(state.record(1)?.status, "no other credential is touched").to.equal(Status.Active);
    expect(state.deviceIndex(h("phone C"))).to.equal(2);
  });

  it("re-issuing to the same phone supersedes and rebinds it", () => {
    const { state } = run([
      { who: ISSUER, events: [issue("alice", "phone A")] },
      { who: ISSUER, events: [reissue(0, "alice", "phone A")] },
    ]);
    expect(state.record(0)?.status).to.equal(Status.Revoked);
    expect(state.deviceIndex(h("phone A"))).to.equal(1);
  });

  it("re-issues a credential locked for a lost phone: the lost-phone flow ends on a new phone", () => {
    const { state, applied } = run([
      { who: ISSUER, events: [issue("alice", "phone A")] },
      { who: OPERATOR, events: [lock("phone A")] },
      { who: ISSUER, events: [reissue(0, "alice", "phone N")] },
    ]);
    expect(applied.slice(-2).map((a) => [a.kind, a.record.index, a.record.status, a.record.reason])).to.deep.equal([
      [AppliedKind.Supersede, 0, Status.Revoked, Reason.Superseded],
      [AppliedKind.Issue, 1, Status.Active, Reason.None],
    ]);
    expect(state.record(1)?.deviceKeyHash).to.equal(h("phone N"));
  });

  it("an issuance without a re-issue supersedes nothing: a holder handle is not on chain to find one by", () => {
    const { state } = run([
      { who: ISSUER, events: [issue("alice", "phone A")] },
      { who: ISSUER, events: [issue("alice", "phone C")] },
    ]);
    expect([state.record(0)?.status, state.record(1)?.status]).to.deep.equal([Status.Active, Status.Active]);
  });

  it("walks ACTIVE -> SUSPENDED -> ACTIVE -> REVOKED, and a lock suspends with LOST_DEVICE", () => {
    const { state, applied } = run([
      { who: ISSUER, events: [issue("alice", "phone A"), suspend(0), reinstate(0)] },
      { who: OPERATOR, events: [lock("phone A")] },
      { who: ISSUER, events: [revoke(0)] },
    ]);
    expect(applied.map((a) => [a.kind, a.record.status, a.record.reason])).to.deep.equal([
      [AppliedKind.Issue, Status.Active, Reason.None],
      [AppliedKind.Suspend, Status.Suspended, Reason.HolderRequest],
      [AppliedKind.Reinstate, Status.Active, Reason.None],
      [AppliedKind.LockDevice, Status.Suspended, Reason.LostDevice],
      [AppliedKind.Revoke, Status.Revoked, Reason.KeyCompromise],
    ]);
    expect(state.record(0)?.status).to.equal(Status.Revoked);
  });

  const issued = [{ who: ISSUER, events: [issue("alice", "phone A")] }];
  const suspended = [{ who: ISSUER, events: [issue("alice", "phone A"), suspend(0)] }];
  const revoked = [{ who: ISSUER, events: [issue("alice", "phone A"), revoke(0)] }];
  for (const { title, code, before, last } of [
    { title: "an operator issuing", code: "ROLE_REQUIRED", before: [], last: { who: OPERATOR, events: [issue("x", "y")] } },
    { title: "an operator revoking", code: "ROLE_REQUIRED", before: issued, last: { who: OPERATOR, events: [revoke(0)] } },
    {
      title: "an issuer without the operator role locking",
      code: "ROLE_REQUIRED",
      before: issued,
      last: { who: ISSUER, events: [lock("phone A")] },
    },
    { title: "suspending an unknown index", code: "UNKNOWN_INDEX", before: issued, last: { who: ISSUER, events: [suspend(5)] } },
    {
      title: "locking a device never issued to",
      code: "UNKNOWN_DEVICE",
      before: issued,
      last: { who: OPERATOR, events: [lock("phone Z")] },
    },
    {
      title: "suspending a suspended credential",
      code: "ALREADY_SUSPENDED",
      before: suspended,
      last: { who: ISSUER, events: [suspend(0)] },
    },
    { title: "suspending a revoked credential", code: "CREDENTIAL_REVOKED", before: revoked, last: { who: ISSUER, events: [suspend(0)] } },
    {
      title: "reinstating a revoked credential",
      code: "CREDENTIAL_REVOKED",
      before: revoked,
      last: { who: ISSUER, events: [reinstate(0)] },
    },
    { title: "revoking twice", code: "CREDENTIAL_REVOKED", before: revoked, last: { who: ISSUER, events: [revoke(0)] } },
    {
      title: "locking a revoked credential",
      code: "CREDENTIAL_REVOKED",
      before: revoked,
      last: { who: OPERATOR, events: [lock("phone A")] },
    },
    { title: "reinstating an active credential", code: "NOT_SUSPENDED", before: issued, last: { who: ISSUER, events: [reinstate(0)] } },
    {
      title: "a second holder on a phone in use",
      code: "DEVICE_IN_USE",
      before: issued,
      last: { who: ISSUER, events: [issue("bob", "phone A")] },
    },
    {
      title: "a re-issue onto a phone carrying another live credential",
      code: "DEVICE_IN_USE",
      before: [{ who: ISSUER, events: [issue("alice", "phone A"), issue("bob", "phone B")] }],
      last: { who: ISSUER, events: [reissue(0, "alice", "phone B")] },
    },
    {
      title: "re-issuing an unknown index",
      code: "UNKNOWN_INDEX",
      before: issued,
      last: { who: ISSUER, events: [reissue(4, "x", "phone X")] },
    },
    {
      title: "re-issuing a revoked credential",
      code: "CREDENTIAL_REVOKED",
      before: revoked,
      last: { who: ISSUER, events: [reissue(0, "alice", "phone X")] },
    },
    {
      title: "an operator re-issuing",
      code: "ROLE_REQUIRED",
      before: issued,
      last: { who: OPERATOR, events: [reissue(0, "alice", "phone X")] },
    },
    {
      title: "a valid event followed by an invalid one (all or nothing)",
      code: "NOT_SUSPENDED",
      before: issued,
      last: { who: ISSUER, events: [issue("carol", "phone C"), reinstate(0)] },
    },
  ] as const) {
    it(`refuses ${title} with ${code}, changing nothing`, () => expectRefused(code, [...before], last));
  }

  it("a lost-device lock always takes hold, and a reinstate that did not see it cannot undo it", () => {
    // suspended at the holder's request; then the phone is reported lost while a reinstate is on its way
    const { state, applied } = run([
      { who: ISSUER, events: [issue("alice", "phone A"), suspend(0)] },
      { who: OPERATOR, events: [lock("phone A")] },
    ]);
    expect(applied.slice(-1).map((a) => [a.kind, a.record.status, a.record.reason])).to.deep.equal([
      [AppliedKind.LockDevice, Status.Suspended, Reason.LostDevice],
    ]);
    // the reinstate lifts what it saw (HOLDER_REQUEST): refused, the lock stays
    expect(() =>
      applySubmission(state, { ...ISSUER, batch: 3 }, { nonce: h("late reinstate"), events: [reinstate(0, Reason.HolderRequest)] }),
    )
      .to.throw(TransitionError)
      .with.property("code", "SUSPENSION_CHANGED");
    // locking again is harmless (an operator's retry), and naming the lock lifts it (the phone turned up)
    const again = applySubmission(state, { ...OPERATOR, batch: 3 }, { nonce: h("retry"), events: [lock("phone A")] });
    expect(again.applied[0].record).to.include({ status: Status.Suspended, reason: Reason.LostDevice });
    const found = applySubmission(state, { ...ISSUER, batch: 3 }, { nonce: h("found"), events: [reinstate(0, Reason.LostDevice)] });
    expect(found.applied[0].record).to.include({ status: Status.Active, reason: Reason.None });
  });

  it("allows a new holder on a phone whose credential was revoked", () => {
    const { state } = run([...revoked, { who: ISSUER, events: [issue("bob", "phone A")] }]);
    expect(state.deviceIndex(h("phone A"))).to.equal(1);
  });

  it("recognises a reused nonce of the same signer", () => {
    const state = new MemoryState();
    const first = applySubmission(state, { ...ISSUER, batch: 1 }, { nonce: h("n"), events: [issue("a", "b")] });
    state.commit(first.changes);
    expect(() => applySubmission(state, { ...ISSUER, batch: 1 }, { nonce: h("n"), events: [issue("c", "d")] }))
      .to.throw(TransitionError)
      .with.property("code", "DUPLICATE_NONCE");
    expect(() => applySubmission(state, { ...OPERATOR, batch: 1 }, { nonce: h("n"), events: [lock("b")] })).to.not.throw();
  });

  it("moving a submission to the next batch gives exactly what applying it there gives", () => {
    // every kind, supersedes included, on top of a state with history
    const { state } = run([
      { who: ISSUER, events: [issue("alice", "phone A"), issue("bob", "phone B"), issue("carol", "phone C")] },
      { who: ISSUER, events: [suspend(1)] },
    ]);
    const submissions: Step[] = [
      { who: ISSUER, events: [reissue(0, "alice", "phone D"), reinstate(1), revoke(2), issue("dave", "phone C")] },
      { who: OPERATOR, events: [lock("phone A")] },
    ];
    submissions.forEach(({ who, events }, n) => {
      const submission = { nonce: h(`moved ${n}`), events: [...events] };
      const moved = moveToBatch(applySubmission(state, { ...who, batch: 3 }, submission), 4);
      expect(moved).to.deep.equal(applySubmission(state, { ...who, batch: 4 }, submission));
      expect(moved.applied.every((draft) => draft.record.batch === 4)).to.equal(true);
    });
  });
});
