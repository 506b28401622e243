import { expect } from "chai";
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
import { Level } from "level";
import { RegistryStore, StoreError, type JournalEntry } from "../../registry-service/src/storage/registryStore";
import { decodeJournalEntry, encodeJournalEntry } from "../../registry-service/src/storage/journalCodec";
import { tempStore } from "../support/tempStore";

const ISSUER = "0x00000000000000000000000000000000000000aa" as Hex;
const OPERATOR = "0x00000000000000000000000000000000000000bb" as Hex;
const issuerRoles = { issuer: true, operator: false };
const operatorRoles = { issuer: false, operator: true };
const h = (label: string) => id(label) as Hex;
const submission = (nonce: string, events: StatusEvent[]): Submission => ({ nonce: h(nonce), events, signature: `0x${"11".repeat(65)}` });
const issue = (holder: string, device: string): StatusEvent => ({
  ...blankEvent(EventKind.Issue),
  holderRef: h(holder),
  credentialCommitment: h(`c ${holder}`),
  deviceKeyHash: h(device),
  channel: Channel.QrCode,
});

describe("RegistryStore (LevelDB journal and state)", () => {
  let temp: Awaited<ReturnType<typeof tempStore>>;
  let store: RegistryStore;
  beforeEach(async () => {
    temp = await tempStore();
    store = temp.store;
  });
  afterEach(() => temp.remove());

  it("journals an issuance with its effects and answers a resend with the original entry", async () => {
    const first = await store.accept(ISSUER, issuerRoles, submission("n1", [issue("alice", "phone A")]));
    expect(first.duplicate).to.equal(false);
    expect(first.entry).to.include({ seq: 0, batch: 1, signer: ISSUER });
    expect(first.entry.applied.map((a) => [a.kind, a.record.index])).to.deep.equal([[AppliedKind.Issue, 0]]);
    expect((await store.record(0))?.status).to.equal(Status.Active);

    const again = await store.accept(ISSUER, issuerRoles, submission("n1", [issue("someone else", "phone Z")]));
    expect(again).to.deep.equal({ entry: first.entry, duplicate: true });
    expect(await store.record(1)).to.equal(undefined);
  });

  it("writes nothing for a refused submission", async () => {
    await store.accept(ISSUER, issuerRoles, submission("n1", [issue("alice", "phone A")]));
    let error: unknown;
    await store
      .accept(ISSUER, issuerRoles, submission("n2", [issue("bob", "phone B"), { ...blankEvent(EventKind.Reinstate), index: 0 }]))
      .catch((e) => (error = e));
    expect(error).to.be.instanceOf(TransitionError);
    expect((error as TransitionError).code).to.equal("NOT_SUSPENDED");
    expect(await store.record(1)).to.equal(undefined);
    const next = await store.accept(ISSUER, issuerRoles, submission("n2", [issue("bob", "phone B")]));
    expect(next.entry.seq).to.equal(1);
    expect(next.entry.applied[0].record.index).to.equal(1);
  });

  it("keeps everything acknowledged across a close and reopen", async () => {
    const issued = await store.accept(ISSUER, issuerRoles, submission("n1", [issue("alice", "phone A")]));
    store = await temp.reopen();
    expect((await store.record(0))?.deviceKeyHash).to.equal(h("phone A"));
    expect((await store.accept(ISSUER, issuerRoles, submission("n1", [issue("x", "y")]))).entry).to.deep.equal(issued.entry);
    const locked = await store.accept(
      OPERATOR,
      operatorRoles,
      submission("lock", [{ ...blankEvent(EventKind.LockDevice), deviceKeyHash: h("phone A") }]),
    );
    expect(locked.entry.applied[0].record).to.include({ index: 0, status: Status.Suspended, reason: Reason.LostDevice });
    expect(await store.entriesOf(1)).to.deep.equal([issued.entry, locked.entry]);
  });

  it("cuts batches with their record: later submissions join the next batch, an empty batch is not cut", async () => {
    const a = await store.accept(ISSUER, issuerRoles, submission("n1", [issue("alice", "phone A")]));
    const seen: unknown[] = [];
    const prepare = (batch: number, entries: JournalEntry[]) => {
      seen.push({ batch, entries });
      return {
        batch,
        previousRoot: h("p"),
        statusRoot: h(`s${batch}`),
        eventRoot: h("e"),
        eventCount: entries.length,
        eventData: "0x01" as Hex,
        eventDataHash: h("d"),
      };
    };
    const cut = await store.cutBatch(prepare);
    expect(seen).to.deep.equal([{ batch: 1, entries: [a.entry] }]);
    expect(cut).to.include({ batch: 1, state: "prepared", statusRoot: h("s1") });
    expect(await store.latestBatchRecord()).to.deep.equal(cut);
    expect(await store.cutBatch(prepare)).to.equal(undefined);
    await store.markAnchored(
      1,
      h("tx"),
      7,
      a.entry.applied.map((event) => event.record),
    );
    expect(await store.anchoredRecord(0)).to.deep.equal(a.entry.applied[0].record);
    expect(await store.batchRecord(1)).to.include({ state: "anchored", transactionHash: h("tx"), blockNumber: 7 });
    const b = await store.accept(
      ISSUER,
      issuerRoles,
      submission("n2", [{ ...blankEvent(EventKind.Suspend), index: 0, reason: Reason.HolderRequest }]),
    );
    expect(b.entry.batch).to.equal(2);
    expect(b.entry.applied[0].record.batch).to.equal(2);
    expect(await store.openBatch()).to.equal(2);
  });

  it("starts a new batch when the open one is full, and cuts the oldest unrecorded batch first", async () => {
    await store.close();
    store = await RegistryStore.open(temp.dir, { maxBatchEvents: 2 });
    temp.store = store;
    const batches = [];
    for (const n of [1, 2, 3])
      batches.push((await store.accept(ISSUER, issuerRoles, submission(`n${n}`, [issue(`h${n}`, `d${n}`)]))).entry.batch);
    expect(batches).to.deep.equal([1, 1, 2]);
    expect(await store.hasFullBatch()).to.equal(true);
    const prepare = (batch: number, entries: JournalEntry[]) => ({
      batch,
      previousRoot: h("p"),
      statusRoot: h(`s${batch}`),
      eventRoot: h("e"),
      eventCount: entries.length,
      eventData: "0x01" as Hex,
      eventDataHash: h("d"),
    });
    expect(await store.cutBatch(prepare)).to.include({ batch: 1, eventCount: 2 });
    expect(await store.openBatch()).to.equal(2);
    expect(await store.cutBatch(prepare)).to.include({ batch: 2, eventCount: 1 });
    expect(await store.openBatch()).to.equal(3);
    expect(await store.cutBatch(prepare)).to.equal(undefined);
  });

  it("serialises concurrent submissions: unique sequence numbers and indexes", async () => {
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => store.accept(ISSUER, issuerRoles, submission(`n${i}`, [issue(`holder ${i}`, `phone ${i}`)]))),
    );
    expect(results.map((r) => r.entry.seq).sort((x, y) => x - y)).to.deep.equal([...Array(40).keys()]);
    expect(new Set(results.map((r) => r.entry.applied[0].record.index)).size).to.equal(40);
    expect((await store.entriesOf(1)).length).to.equal(40);
  });

  it("sees earlier submissions of the same commit group: resends and conflicts are caught inside it", async () => {
    const [first, resend, rival] = await Promise.allSettled([
      store.accept(ISSUER, issuerRoles, submission("same", [issue("alice", "phone A")])),
      store.accept(ISSUER, issuerRoles, submission("same", [issue("alice", "phone A")])),
      store.accept(ISSUER, issuerRoles, submission("rival", [issue("bob", "phone A")])),
    ]);
    expect(first.status === "fulfilled" && first.value.duplicate).to.equal(false);
    expect(resend.status === "fulfilled" && resend.value).to.deep.equal({
      entry: (first as PromiseFulfilledResult<{ entry: unknown }>).value.entry,
      duplicate: true,
    });
    expect(rival.status === "rejected" && (rival.reason as TransitionError).code).to.equal("DEVICE_IN_USE");
    store = await temp.reopen();
    expect((await store.entriesOf(1)).map((e) => e.submission.nonce)).to.deep.equal([h("same")]);
  });

  it("rebuilds from the journal on reopen: anchored and pending records, bindings, nonces, batches and the backlog", async () => {
    const prepare = (batch: number, entries: JournalEntry[]) => ({
      batch,
      previousRoot: h("p"),
      statusRoot: h(`s${batch}`),
      eventRoot: h("e"),
      eventCount: entries.length,
      eventData: "0x01" as Hex,
      eventDataHash: h("d"),
    });
    const issued = await store.accept(ISSUER, issuerRoles, submission("n1", [issue("alice", "phone A"), issue("bob", "phone B")]));
    await store.cutBatch(prepare);
    await store.markAnchored(
      1,
      h("tx"),
      7,
      issued.entry.applied.map((event) => event.record),
    );
    const locked = await store.accept(
      OPERATOR,
      operatorRoles,
      submission("lock", [{ ...blankEvent(EventKind.LockDevice), deviceKeyHash: h("phone B") }]),
    );
    const reissued = await store.accept(ISSUER, issuerRoles, submission("n2", [issue("alice", "phone C")]));
    await store.cutBatch(prepare); // batch 2 cut, not anchored; nothing after it
    const before = {
      backlog: await store.backlog(),
      open: await store.openBatch(),
      records: [0, 1, 2].map((i) => store.record(i)),
      anchored: [0, 1, 2].map((i) => store.anchoredRecord(i)),
    };

    store = await temp.reopen();
    expect({
      backlog: await store.backlog(),
      open: await store.openBatch(),
      records: [0, 1, 2].map((i) => store.record(i)),
      anchored: [0, 1, 2].map((i) => store.anchoredRecord(i)),
    }).to.deep.equal(before);
    expect(before.backlog).to.equal(2);
    expect(before.open).to.equal(3);
    expect(before.anchored[1]?.status).to.equal(Status.Active);
    expect(before.records[1]?.status).to.equal(Status.Suspended);
    expect(before.records[0]).to.include({ status: Status.Revoked, reason: Reason.Superseded });
    expect(await store.entriesOf(2)).to.deep.equal([locked.entry, reissued.entry]);
    // bindings and nonces came back: a resend is recognised, the re-issued device is taken, the new one is locked by device
    expect((await store.accept(ISSUER, issuerRoles, submission("n2", [issue("x", "y")]))).duplicate).to.equal(true);
    const taken = await store.accept(ISSUER, issuerRoles, submission("n3", [issue("carol", "phone C")])).catch((e) => e);
    expect((taken as TransitionError).code).to.equal("DEVICE_IN_USE");
    const lockC = await store.accept(
      OPERATOR,
      operatorRoles,
      submission("lock C", [{ ...blankEvent(EventKind.LockDevice), deviceKeyHash: h("phone C") }]),
    );
    expect(lockC.entry).to.include({ batch: 3, seq: 3 });
    expect(lockC.entry.applied[0].record).to.include({ index: 2, status: Status.Suspended });
  });

  it("refuses a submission too large for one anchor with SUBMISSION_TOO_LARGE, writing nothing", async () => {
    await store.close();
    store = await RegistryStore.open(temp.dir, { maxBatchBytes: 1024 });
    temp.store = store;
    const events = Array.from({ length: 10 }, (_, i) => issue(`holder ${i}`, `phone ${i}`)); // 101 + 10 x 98 bytes
    const error = await store.accept(ISSUER, issuerRoles, submission("big", events)).catch((e) => e);
    expect(error).to.be.instanceOf(StoreError);
    expect((error as StoreError).code).to.equal("SUBMISSION_TOO_LARGE");
    expect((error as StoreError).message).to.match(/split it/);
    expect(store.record(0)).to.equal(undefined);
    expect((await store.accept(ISSUER, issuerRoles, submission("big", events.slice(0, 9)))).entry.seq).to.equal(0);
  });

  it("refuses a data directory of the earlier JSON format instead of misreading it", async () => {
    await store.close();
    const old = new Level<string, unknown>(temp.dir, { valueEncoding: "json" });
    await old.clear();
    await old.sublevel<string, number>("meta", { valueEncoding: "json" }).put("nextSeq", 3);
    await old.close();
    const error = await RegistryStore.open(temp.dir).catch((e) => e);
    expect((error as StoreError).code).to.equal("UNREADABLE_DATA");
    expect((error as Error).message).to.match(/earlier version/);
  });

  it("refuses to open on a journal entry that does not add up, naming it", async () => {
    const { entry } = await store.accept(ISSUER, issuerRoles, submission("n1", [issue("alice", "phone A")]));
    await store.close();
    const db = new Level<string, unknown>(temp.dir, { valueEncoding: "json" });
    const bytes = encodeJournalEntry(entry);
    await db.sublevel<string, Uint8Array>("journal", { valueEncoding: "view" }).put("0000000000000", bytes.subarray(0, bytes.length - 1));
    await db.close();
    const error = await RegistryStore.open(temp.dir).catch((e) => e);
    expect((error as StoreError).code).to.equal("UNREADABLE_DATA");
    expect((error as Error).message).to.match(/journal entry 0/);
  });

  it("journals entries in a compact binary form that decodes to the same entry", async () => {
    const { entry } = await store.accept(ISSUER, issuerRoles, submission("n1", [issue("alice", "phone A"), issue("alice", "phone B")]));
    const bytes = encodeJournalEntry(entry);
    expect(decodeJournalEntry(entry.seq, bytes)).to.deep.equal(entry);
    expect(bytes.length).to.be.lessThan(JSON.stringify(entry).length / 2);
    expect(() => decodeJournalEntry(0, Uint8Array.of(9, ...bytes.subarray(1)))).to.throw(/format 9/);
  });
});
