import { expect } from "chai";
import { UNCHECKED_GRANT } from "../support/devices";
import { id } from "ethers";
import {
  AppliedKind,
  blankEvent,
  Channel,
  EventKind,
  Reason,
  Status,
  TransitionError,
  type Hex,
  type StatusEvent,
  type Submission,
} from "../../registry-service/src/core";
import { IntakeError, type BatchPolicy, type Intake } from "../../registry-service/src/intake";
import { MemoryJournal } from "../../registry-service/src/journal";
import { ev } from "../support/scriptedPublisher";
import { openIntake, tempIntake } from "../support/tempRegistry";
import { batchRecord, issuerCheck as issuerRoles, operatorCheck as operatorRoles, unsignedSubmission } from "../support/fixtures";

const ISSUER = "0x00000000000000000000000000000000000000aa" as Hex;
const OPERATOR = "0x00000000000000000000000000000000000000bb" as Hex;
const h = (label: string) => id(label) as Hex;
const submission = (nonce: string, events: StatusEvent[]): Submission => unsignedSubmission(h(nonce), events);
const issue = (holder: string, device: string): StatusEvent => ({
  ...blankEvent(EventKind.Issue),
  credentialCommitment: h(`c ${holder}`),
  deviceKeyHash: h(device),
  channel: Channel.QrCode,
});

const reissueOf = (index: number, holder: string, device: string): StatusEvent => ({
  ...issue(holder, device),
  kind: EventKind.Reissue,
  index,
});

describe("Intake (group commit, state machine, batch policy) over a LevelDB journal", () => {
  let temp: Awaited<ReturnType<typeof tempIntake>>;
  let intake: Intake;
  beforeEach(async () => {
    temp = await tempIntake();
    intake = temp.intake;
  });
  afterEach(() => temp.remove());

  it("journals an issuance with its effects and answers a resend with the original entry", async () => {
    const first = await intake.accept(ISSUER, issuerRoles, submission("n1", [issue("alice", "phone A")]));
    expect(first.duplicate).to.equal(false);
    expect(first.entry).to.include({ seq: 0, batch: 1, signer: ISSUER });
    expect(first.entry.applied.map((a) => [a.kind, a.record.index])).to.deep.equal([[AppliedKind.Issue, 0]]);
    expect(intake.record(0)?.status).to.equal(Status.Active);

    // the same request, signed again (another signature is as good): its original result
    const resend = { ...submission("n1", [issue("alice", "phone A")]), signature: `0x${"22".repeat(65)}` as Hex };
    const again = await intake.accept(ISSUER, issuerRoles, resend);
    expect(again).to.deep.equal({ entry: first.entry, duplicate: true });
    expect(intake.record(1)).to.equal(undefined);
  });

  it("stamps each entry with the block its signer's roles were read at (its intake block)", async () => {
    const { entry } = await intake.accept(ISSUER, { ...issuerRoles, block: 1234 }, submission("n1", [issue("alice", "phone A")]));
    expect(entry.submission.intakeBlock).to.equal(1234);
    expect((await intake.entriesOf(1))[0].submission.intakeBlock, "journalled with it").to.equal(1234);
  });

  it("refuses a deadline too near or too far (DEADLINE_TOO_SOON, DEADLINE_TOO_FAR), writing nothing; a resend is still answered", async () => {
    let now = Date.now();
    const journal = new MemoryJournal();
    const { intake: timed } = await openIntake(journal, { minDeadlineSeconds: 60, maxDeadlineSeconds: 3600 }, 32, () => now);
    const at = (seconds: number) =>
      unsignedSubmission(h(`n ${seconds}`), [issue(`h ${seconds}`, `d ${seconds}`)], Math.floor(now / 1000) + seconds);
    for (const [seconds, code] of [
      [-5, "DEADLINE_TOO_SOON"],
      [59, "DEADLINE_TOO_SOON"],
      [3601, "DEADLINE_TOO_FAR"],
    ] as const) {
      const error = await timed.accept(ISSUER, issuerRoles, at(seconds)).catch((e: unknown) => e);
      expect(error, `deadline in ${seconds} s`).to.be.instanceOf(IntakeError).and.to.include({ code });
      expect((error as Error).message).to.match(/sign it again with a deadline between \d+ and \d+/);
    }
    expect(timed.backlog).to.equal(0);
    const accepted = at(60);
    const first = await timed.accept(ISSUER, issuerRoles, accepted);
    now += 3_600_000; // an hour on: its deadline has passed, but a resend gets the first answer, not a refusal
    expect(await timed.accept(ISSUER, issuerRoles, accepted)).to.deep.equal({ entry: first.entry, duplicate: true });
  });

  it("refuses other events under a used nonce with DUPLICATE_NONCE instead of answering with the earlier result", async () => {
    await intake.accept(ISSUER, issuerRoles, submission("n1", [issue("alice", "phone A")]));
    for (const events of [[issue("someone else", "phone Z")], [ev.suspend(0, Reason.HolderRequest)]]) {
      const error = await intake.accept(ISSUER, issuerRoles, submission("n1", events)).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(TransitionError).and.to.include({ code: "DUPLICATE_NONCE" });
    }
    expect(intake.record(0)?.status, "the suspension was not silently dropped as a duplicate: it was refused").to.equal(Status.Active);
    expect(intake.record(1)).to.equal(undefined);
    // in one commit group too
    const [first, rival] = await Promise.allSettled([
      intake.accept(ISSUER, issuerRoles, submission("n2", [issue("bob", "phone B")])),
      intake.accept(ISSUER, issuerRoles, submission("n2", [issue("carol", "phone C")])),
    ]);
    expect(first.status).to.equal("fulfilled");
    expect(rival.status === "rejected" && (rival.reason as TransitionError).code).to.equal("DUPLICATE_NONCE");
  });

  it("refuses an issuance past the registry's last slot with REGISTRY_FULL, nothing written", async () => {
    const { intake: small } = await openIntake(new MemoryJournal(), {}, 1); // two slots
    for (const n of [1, 2]) await small.accept(ISSUER, issuerRoles, submission(`n${n}`, [issue(`h${n}`, `d${n}`)]));
    const error = await small.accept(ISSUER, issuerRoles, submission("n3", [issue("h3", "d3")])).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(TransitionError).and.to.include({ code: "REGISTRY_FULL" });
    expect(small.backlog).to.equal(2);
    // other changes still go through
    const suspended = await small.accept(ISSUER, issuerRoles, submission("n4", [ev.suspend(1, Reason.HolderRequest)]));
    expect(suspended.entry.applied[0].record.status).to.equal(Status.Suspended);
  });

  it("writes nothing for a refused submission", async () => {
    await intake.accept(ISSUER, issuerRoles, submission("n1", [issue("alice", "phone A")]));
    const error = await intake
      .accept(ISSUER, issuerRoles, submission("n2", [issue("bob", "phone B"), ev.reinstate(0, Reason.HolderRequest)]))
      .catch((e: unknown) => e);
    expect(error).to.be.instanceOf(TransitionError);
    expect((error as TransitionError).code).to.equal("NOT_SUSPENDED");
    expect(intake.record(1)).to.equal(undefined);
    const next = await intake.accept(ISSUER, issuerRoles, submission("n2", [issue("bob", "phone B")]));
    expect(next.entry.seq).to.equal(1);
    expect(next.entry.applied[0].record.index).to.equal(1);
  });

  it("keeps everything acknowledged across a close and reopen", async () => {
    const issued = await intake.accept(ISSUER, issuerRoles, submission("n1", [issue("alice", "phone A")]));
    intake = await temp.reopen();
    expect(intake.record(0)?.deviceKeyHash).to.equal(h("phone A"));
    expect((await intake.accept(ISSUER, issuerRoles, submission("n1", [issue("alice", "phone A")]))).entry).to.deep.equal(issued.entry);
    const locked = await intake.accept(
      OPERATOR,
      operatorRoles,
      submission("lock", [{ ...blankEvent(EventKind.LockDevice), deviceKeyHash: h("phone A"), grant: UNCHECKED_GRANT }]),
    );
    expect(locked.entry.applied[0].record).to.include({ index: 0, status: Status.Suspended, reason: Reason.LostDevice });
    expect(await intake.entriesOf(1)).to.deep.equal([issued.entry, locked.entry]);
  });

  it("closes a batch for the anchorer: later submissions join the next batch, an empty batch stays open", async () => {
    const a = await intake.accept(ISSUER, issuerRoles, submission("n1", [issue("alice", "phone A")]));
    expect(await intake.closeBatch(1)).to.deep.equal([a.entry]);
    expect(intake.openBatch).to.equal(2);
    expect(await intake.closeBatch(2)).to.deep.equal([]);
    expect(intake.openBatch, "nothing to cut: the batch stays open").to.equal(2);
    const b = await intake.accept(ISSUER, issuerRoles, submission("n2", [ev.suspend(0, Reason.HolderRequest)]));
    expect(b.entry.batch).to.equal(2);
    expect(b.entry.applied[0].record.batch).to.equal(2);
    expect(await intake.closeBatch(1), "closing again is harmless and gives the same entries").to.deep.equal([a.entry]);
  });

  it("starts a new batch when the open one is full (its records carry the new number) and nudges the batcher", async () => {
    intake = await temp.reopen({ maxEvents: 2, priorityReserve: 0 });
    let nudged = 0;
    intake.onBatchFull = () => nudged++;
    const entries = [];
    for (const n of [1, 2, 3])
      entries.push((await intake.accept(ISSUER, issuerRoles, submission(`n${n}`, [issue(`h${n}`, `d${n}`)]))).entry);
    expect(entries.map((e) => e.batch)).to.deep.equal([1, 1, 2]);
    expect(entries[2].applied[0].record.batch).to.equal(2);
    expect(nudged).to.equal(1);
    expect(intake.openBatch).to.equal(2);
    expect(await intake.closeBatch(1)).to.have.length(2);
    expect(intake.openBatch, "batch 1 was already closed by the overflow").to.equal(2);
    expect(await intake.closeBatch(2)).to.have.length(1);
    expect(intake.openBatch).to.equal(3);
    expect(await intake.closeBatch(3)).to.deep.equal([]);
  });

  it("puts a submission that overflows the open batch into the next one with the same effects", async () => {
    intake = await temp.reopen({ maxEvents: 2, priorityReserve: 0 });
    await intake.accept(ISSUER, issuerRoles, submission("n1", [issue("alice", "phone A")]));
    // re-issuing to alice supersedes her first ID: two applied events, which do not fit batch 1
    const reissue = await intake.accept(ISSUER, issuerRoles, submission("n2", [reissueOf(0, "alice", "phone B")]));
    expect(reissue.entry.batch).to.equal(2);
    expect(reissue.entry.applied.map((a) => [a.kind, a.record.index, a.record.status, a.record.batch])).to.deep.equal([
      [AppliedKind.Supersede, 0, Status.Revoked, 2],
      [AppliedKind.Issue, 1, Status.Active, 2],
    ]);
    intake = await temp.reopen({ maxEvents: 2, priorityReserve: 0 });
    expect(intake.record(0)).to.include({ status: Status.Revoked, batch: 2 });
    expect(intake.record(1)).to.include({ status: Status.Active, batch: 2 });
  });

  it("serialises concurrent submissions: unique sequence numbers and indexes", async () => {
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => intake.accept(ISSUER, issuerRoles, submission(`n${i}`, [issue(`holder ${i}`, `phone ${i}`)]))),
    );
    expect(results.map((r) => r.entry.seq).sort((x, y) => x - y)).to.deep.equal([...Array(40).keys()]);
    expect(new Set(results.map((r) => r.entry.applied[0].record.index)).size).to.equal(40);
    expect((await intake.entriesOf(1)).length).to.equal(40);
  });

  it("sees earlier submissions of the same commit group: resends and conflicts are caught inside it", async () => {
    const [first, resend, rival] = await Promise.allSettled([
      intake.accept(ISSUER, issuerRoles, submission("same", [issue("alice", "phone A")])),
      intake.accept(ISSUER, issuerRoles, submission("same", [issue("alice", "phone A")])),
      intake.accept(ISSUER, issuerRoles, submission("rival", [issue("bob", "phone A")])),
    ]);
    expect(first.status === "fulfilled" && first.value.duplicate).to.equal(false);
    expect(resend.status === "fulfilled" && resend.value).to.deep.equal({
      entry: (first as PromiseFulfilledResult<{ entry: unknown }>).value.entry,
      duplicate: true,
    });
    expect(rival.status === "rejected" && (rival.reason as TransitionError).code).to.equal("DEVICE_IN_USE");
    intake = await temp.reopen();
    expect((await intake.entriesOf(1)).map((e) => e.submission.nonce)).to.deep.equal([h("same")]);
  });

  it("rebuilds from the journal on reopen: anchored and pending records, bindings, nonces, batches and the backlog", async () => {
    const issued = await intake.accept(ISSUER, issuerRoles, submission("n1", [issue("alice", "phone A"), issue("bob", "phone B")]));
    const first = await intake.closeBatch(1);
    await temp.journal.putBatch({ ...batchRecord(1, first, "anchored"), transactionHash: h("tx"), blockNumber: 7 });
    intake.anchoredThrough(1);
    const locked = await intake.accept(
      OPERATOR,
      operatorRoles,
      submission("lock", [{ ...blankEvent(EventKind.LockDevice), deviceKeyHash: h("phone B"), grant: UNCHECKED_GRANT }]),
    );
    const reissued = await intake.accept(ISSUER, issuerRoles, submission("n2", [reissueOf(0, "alice", "phone C")]));
    await temp.journal.putBatch(batchRecord(2, await intake.closeBatch(2), "prepared")); // cut, not anchored; nothing after it
    const view = (i: Intake) => ({ backlog: i.backlog, open: i.openBatch, records: [0, 1, 2].map((index) => i.record(index)) });
    const before = view(intake);

    intake = await temp.reopen();
    expect(view(intake)).to.deep.equal(before);
    expect(before.backlog).to.equal(2);
    expect(before.open).to.equal(3);
    expect(before.records[1]?.status).to.equal(Status.Suspended);
    expect(before.records[0]).to.include({ status: Status.Revoked, reason: Reason.Superseded });
    expect(
      [0, 1, 2].map((index) => temp.anchored.records.get(index)),
      "the anchored view's records: batch 1 only",
    ).to.deep.equal([...issued.entry.applied.map((event) => event.record), undefined]);
    expect(temp.anchored.batch).to.equal(1);
    expect(await intake.entriesOf(2)).to.deep.equal([locked.entry, reissued.entry]);
    // bindings and nonces came back: a resend is recognised, the re-issued device is taken, the new one is locked by device
    expect((await intake.accept(ISSUER, issuerRoles, submission("n2", [reissueOf(0, "alice", "phone C")]))).duplicate).to.equal(true);
    const taken = await intake.accept(ISSUER, issuerRoles, submission("n3", [issue("carol", "phone C")])).catch((e: unknown) => e);
    expect((taken as TransitionError).code).to.equal("DEVICE_IN_USE");
    const lockC = await intake.accept(
      OPERATOR,
      operatorRoles,
      submission("lock C", [{ ...blankEvent(EventKind.LockDevice), deviceKeyHash: h("phone C"), grant: UNCHECKED_GRANT }]),
    );
    expect(lockC.entry).to.include({ batch: 3, seq: 3 });
    expect(lockC.entry.applied[0].record).to.include({ index: 2, status: Status.Suspended });
  });

  describe("the priority lane: locks, suspensions and revocations", () => {
    const lock = (device: string) =>
      submission(`lock ${device}`, [{ ...blankEvent(EventKind.LockDevice), deviceKeyHash: h(device), grant: UNCHECKED_GRANT }]);
    /** batches of 3 issuances (4 events per batch, a quarter kept for the priority lane): d0..d8 in batches 1, 2, 3 */
    const bulkLoad = async (policy: Partial<BatchPolicy> = {}) => {
      intake = await temp.reopen({ maxEvents: 4, priorityReserve: 0.25, ...policy });
      for (let n = 0; n < 9; n++) await intake.accept(ISSUER, issuerRoles, submission(`bulk ${n}`, [issue(`h${n}`, `d${n}`)]));
      expect(intake.openBatch).to.equal(3);
    };

    it("puts a lock into the earliest batch not yet cut, after its credential's batch, instead of behind the queue", async () => {
      await bulkLoad();
      expect(await intake.closeBatch(1)).to.have.length(3); // batch 1 is with the anchorer
      const early = await intake.accept(OPERATOR, operatorRoles, lock("d0")); // issued in batch 1, which is cut
      expect(early.entry.batch).to.equal(2);
      expect(early.entry.applied[0].record).to.include({ index: 0, status: Status.Suspended, batch: 2 });
      const later = await intake.accept(OPERATOR, operatorRoles, lock("d7")); // issued in batch 3
      expect(later.entry.batch).to.equal(3);
      const suspend = await intake.accept(ISSUER, issuerRoles, submission("s", [ev.suspend(1, 3)]));
      expect(suspend.entry.batch, "batches 2 and 3 are full, reserve included: a new batch").to.equal(4);
      const issuance = await intake.accept(ISSUER, issuerRoles, submission("bulk 9", [issue("h9", "d9")]));
      expect(issuance.entry.batch, "an issuance joins the open batch").to.equal(4);
      // a batch's entries: its run, then the priority entries placed into it later, in order
      expect((await intake.entriesOf(2)).map((e) => e.submission.nonce)).to.deep.equal([
        ...["bulk 3", "bulk 4", "bulk 5"].map(h),
        h("lock d0"),
      ]);
      const before = { open: intake.openBatch, backlog: intake.backlog, batch3: await intake.entriesOf(3) };
      intake = await temp.reopen({ maxEvents: 4, priorityReserve: 0.25 });
      expect({ open: intake.openBatch, backlog: intake.backlog, batch3: await intake.entriesOf(3) }, "rebuilt as it was").to.deep.equal(
        before,
      );
      expect(await intake.entriesOf(2)).to.have.length(4);
      const again = await intake.accept(OPERATOR, operatorRoles, lock("d5"));
      expect(again.entry.batch, "batches 2 and 3 are full, and nothing joins a cut batch").to.equal(4);
    });

    it("never puts a change before the batch its record last changed in", async () => {
      await bulkLoad();
      const suspended = await intake.accept(ISSUER, issuerRoles, submission("s0", [ev.suspend(0, Reason.HolderRequest)]));
      expect(suspended.entry.batch).to.equal(1);
      const reinstated = await intake.accept(ISSUER, issuerRoles, submission("r0", [ev.reinstate(0, Reason.HolderRequest)]));
      expect(reinstated.entry.batch, "a reinstate is not in the priority lane: after the full batch 3").to.equal(4);
      const locked = await intake.accept(OPERATOR, operatorRoles, lock("d0"));
      expect(locked.entry.batch, "index 0 last changed in batch 4").to.equal(4);
    });

    it("never refuses a lock for backlog; an issuance gets QUEUE_FULL", async () => {
      await bulkLoad({ maxBacklog: 9 });
      const refused = await intake.accept(ISSUER, issuerRoles, submission("bulk 9", [issue("h9", "d9")])).catch((e: unknown) => e);
      expect(refused).to.include({ code: "QUEUE_FULL" });
      expect((await intake.accept(OPERATOR, operatorRoles, lock("d4"))).entry.batch).to.equal(2);
    });
  });

  it("refuses a submission too large for one anchor with SUBMISSION_TOO_LARGE, writing nothing", async () => {
    intake = await temp.reopen({ maxBytes: 1024, priorityReserve: 0 });
    const events = Array.from({ length: 14 }, (_, i) => issue(`holder ${i}`, `phone ${i}`)); // 117 + 14 x 66 bytes
    const error = await intake.accept(ISSUER, issuerRoles, submission("big", events)).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(IntakeError);
    expect((error as IntakeError).code).to.equal("SUBMISSION_TOO_LARGE");
    expect((error as IntakeError).message).to.match(/split it/);
    expect(intake.record(0)).to.equal(undefined);
    expect((await intake.accept(ISSUER, issuerRoles, submission("big", events.slice(0, 13)))).entry.seq).to.equal(0);
  });

  it("counts the events a submission applies against one batch, not the events it asks for (re-issues add a SUPERSEDE each)", async () => {
    intake = await temp.reopen({ maxEvents: 4, priorityReserve: 0 });
    await intake.accept(ISSUER, issuerRoles, submission("first", [issue("a", "a1"), issue("b", "b1"), issue("c", "c1")]));
    const reissues = [reissueOf(0, "a", "a2"), reissueOf(1, "b", "b2"), reissueOf(2, "c", "c2")]; // 3 events asked, 6 applied
    const error = await intake.accept(ISSUER, issuerRoles, submission("again", reissues)).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(IntakeError).and.to.include({ code: "SUBMISSION_TOO_LARGE" });
    expect(intake.record(0)?.status, "nothing of it applied").to.equal(Status.Active);
    expect((await intake.accept(ISSUER, issuerRoles, submission("again", reissues.slice(0, 2)))).entry.applied).to.have.length(4);
  });

  it("pushes back with QUEUE_FULL and a retry time once the backlog reaches its bound, accepting again once anchored", async () => {
    intake = await temp.reopen({ maxBacklog: 2 });
    for (const n of [1, 2]) await intake.accept(ISSUER, issuerRoles, submission(`n${n}`, [issue(`h${n}`, `d${n}`)]));
    const error = await intake.accept(ISSUER, issuerRoles, submission("n3", [issue("h3", "d3")])).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(IntakeError);
    expect(error).to.include({ code: "QUEUE_FULL", retryAfterSeconds: 5 });
    expect(intake.record(2)).to.equal(undefined);
    const cut = await intake.closeBatch(1);
    expect(cut).to.have.length(2);
    intake.anchoredThrough(1);
    expect(intake.backlog).to.equal(0);
    expect((await intake.accept(ISSUER, issuerRoles, submission("n3", [issue("h3", "d3")]))).entry.seq).to.equal(2);
  });

  it("pushes back once the unanchored events reach their bound, whatever the number of submissions; locks up to twice it", async () => {
    intake = await temp.reopen({ maxBacklogEvents: 5 });
    await intake.accept(ISSUER, issuerRoles, submission("three", [issue("h0", "d0"), issue("h1", "d1"), issue("h2", "d2")]));
    await intake.accept(ISSUER, issuerRoles, submission("two", [issue("h3", "d3"), issue("h4", "d4")]));
    expect([intake.backlog, intake.backlogEvents]).to.deep.equal([2, 5]);
    const error = await intake.accept(ISSUER, issuerRoles, submission("one", [issue("h5", "d5")])).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(IntakeError).and.to.include({ code: "QUEUE_FULL", retryAfterSeconds: 5 });
    expect((error as Error).message).to.match(/2 submissions \(5 events\) wait for anchoring/);
    const lock = submission("lock d0", [{ ...blankEvent(EventKind.LockDevice), deviceKeyHash: h("d0"), grant: UNCHECKED_GRANT }]);
    expect((await intake.accept(OPERATOR, operatorRoles, lock)).entry.seq, "a lock is taken below twice the bound").to.equal(2);
    await intake.closeBatch(1);
    intake.anchoredThrough(1);
    expect([intake.backlog, intake.backlogEvents]).to.deep.equal([0, 0]);
    expect((await intake.accept(ISSUER, issuerRoles, submission("one", [issue("h5", "d5")]))).entry.seq).to.equal(3);
  });

  it("counts the backlog's events again from the journal when it reopens", async () => {
    intake = await temp.reopen({ maxBacklogEvents: 5 });
    await intake.accept(ISSUER, issuerRoles, submission("three", [issue("h0", "d0"), issue("h1", "d1"), issue("h2", "d2")]));
    intake = await temp.reopen({ maxBacklogEvents: 5 });
    expect([intake.backlog, intake.backlogEvents]).to.deep.equal([1, 3]);
  });
});
