import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import path from "node:path";
import { id } from "ethers";
import {
  blankEvent,
  bytesToHex,
  Channel,
  encodeRecord,
  EventKind,
  type Hex,
  type StatusEvent,
  type Submission,
} from "../../registry-service/src/core";
import {
  DEFAULT_BATCH_POLICY,
  Intake,
  IntakeState,
  openIntakeState,
  type BatchPolicy,
  type RebuiltState,
  type StateOrigin,
} from "../../registry-service/src/intake";
import { PostgresJournal, restampJournalEntry, type Journal, type StoredEntry } from "../../registry-service/src/journal";
import { UNCHECKED_GRANT } from "../support/devices";
import { batchRecord, issuerCheck, operatorCheck, unsignedSubmission } from "../support/fixtures";
import { freshDatabase } from "../support/postgres";
import { ev } from "../support/scriptedPublisher";
import { tempDir, tempIntake } from "../support/tempRegistry";

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
const reissue = (index: number, holder: string, device: string): StatusEvent => ({
  ...issue(holder, device),
  kind: EventKind.Reissue,
  index,
});
const lock = (device: string) =>
  submission(`lock ${device}`, [{ ...blankEvent(EventKind.LockDevice), deviceKeyHash: h(device), grant: UNCHECKED_GRANT }]);

interface Opened {
  intake: Intake;
  journal: Journal;
  anchored: RebuiltState["anchored"];
}

/** batches of 3 issuances (4 events, a quarter kept for the priority lane), so that locks and revocations become late entries of earlier batches */
const POLICY: Partial<BatchPolicy> = { maxEvents: 4, priorityReserve: 0.25 };

/** What the anchorer does for batch 1 (no chain): cut, recorded anchored, the anchored records and intake moved. */
async function anchorFirstBatch({ intake, journal, anchored }: Opened) {
  const entries = await intake.closeBatch(1);
  await journal.putBatch({ ...batchRecord(1, entries, "anchored"), transactionHash: h("tx 1"), blockNumber: 7 });
  for (const { applied } of entries) for (const { record } of applied) anchored.records.setRaw(record.index, encodeRecord(record));
  intake.anchoredThrough(1);
}

/**
 * Issuances in batches 1 to 3, batch 1 anchored, then a lock and a revocation of records anchored
 * in it (priority entries placed into earlier batches after their runs: late entries, and anchored
 * bytes kept aside), a re-issue (supersede and issue), batch 2 cut and recorded, one more issuance.
 */
async function eventful(opened: Opened) {
  const { intake, journal } = opened;
  for (let n = 0; n < 9; n++) await intake.accept(ISSUER, issuerCheck, submission(`bulk ${n}`, [issue(`h${n}`, `d${n}`)]));
  await anchorFirstBatch(opened);
  await intake.accept(OPERATOR, operatorCheck, lock("d0"));
  await intake.accept(ISSUER, issuerCheck, submission("re-issue", [reissue(4, "h4", "d4 new")]));
  await intake.accept(ISSUER, issuerCheck, submission("revoke", [ev.revoke(1)]));
  await journal.putBatch(batchRecord(2, await intake.closeBatch(2), "prepared"));
  await intake.accept(ISSUER, issuerCheck, submission("one more", [issue("h10", "d10")]));
}

/** Everything an intake state holds, comparable with deep equality: records, bindings, nonces, shares, counters, the anchored view. */
function comparable({ state, anchored }: RebuiltState) {
  const { records, devices, nonces, shares } = state.parts();
  const hex = (raw: Uint8Array | undefined) => raw && bytesToHex(raw);
  const indexes = [...Array(records.size + 1).keys()];
  return {
    counters: state.counters,
    records: indexes.map((index) => hex(records.raw(index))),
    devices: {
      size: devices.size,
      bound: indexes.map((index) => records.get(index) && devices.get(records.get(index)!.deviceKeyHash)),
      unknown: devices.get(h("a phone never seen")),
    },
    nonces: [...nonces].sort(),
    shares: [...shares].sort(([a], [b]) => a - b),
    anchored: {
      batch: anchored.batch,
      size: anchored.records.size,
      keptAside: anchored.records.pendingOverwrites,
      records: indexes.map((index) => hex(anchored.records.raw(index))),
      changedAfterBatch1: [...anchored.records.indexes(1)],
    },
  };
}

function expectOrigin(origin: StateOrigin, from: StateOrigin["from"], refused?: string, reason?: RegExp) {
  expect(origin.from, JSON.stringify(origin)).to.equal(from);
  if (origin.from === "journal") {
    expect(origin.refused).to.equal(refused);
    if (reason) expect(origin.reason).to.match(reason);
  }
}

describe("the state checkpoint: intake's state written at a graceful stop, restored when the journal has nothing after it", () => {
  let temp: Awaited<ReturnType<typeof tempIntake>>;
  let file: string;
  beforeEach(async () => {
    temp = await tempIntake(POLICY);
    file = path.join(temp.dir, "state.checkpoint");
    await eventful(temp);
  });
  afterEach(() => temp.remove());

  it("restores the state a scan of the journal gives: records, bindings, nonces, shares, counters, the anchored view", async () => {
    expect(await temp.intake.saveCheckpoint(file)).to.equal(undefined);
    const restored = await openIntakeState(temp.journal, file);
    expectOrigin(restored.origin, "checkpoint");
    expect(restored.origin.entries).to.equal(13);
    const scanned = comparable(await IntakeState.rebuild(temp.journal));
    expect(comparable(restored)).to.deep.equal(scanned);
    // the journal above has what the comparison must cover
    expect(scanned.anchored).to.include({ batch: 1, size: 3 });
    expect(scanned.anchored.keptAside, "anchored records overwritten by changes in flight").to.equal(2);
    expect(
      scanned.shares.some(([, share]) => share.late.length > 0),
      "priority entries placed into an earlier batch",
    ).to.equal(true);
    expect(scanned.counters).to.deep.include({ cutThrough: 2, nextSeq: 13, nextIndex: 11 });
    expect(existsSync(file), "deleted once read").to.equal(false);
  });

  it("gives an intake that carries on as the scanned one would: resends, bindings, the priority lane", async () => {
    expect(await temp.intake.saveCheckpoint(file)).to.equal(undefined);
    const opened = await Intake.open(temp.journal, { ...DEFAULT_BATCH_POLICY, ...POLICY }, 2 ** 32, Date.now, file);
    expectOrigin(opened.origin, "checkpoint");
    const intake = opened.intake;
    expect(intake.backlog, "entries after the anchored batch 1").to.equal(10);
    expect((await intake.accept(ISSUER, issuerCheck, submission("re-issue", [reissue(4, "h4", "d4 new")]))).duplicate).to.equal(true);
    const taken = await intake.accept(ISSUER, issuerCheck, submission("taken", [issue("h11", "d4 new")])).catch((e: Error) => e);
    expect(taken).to.include({ code: "DEVICE_IN_USE" });
    const locked = await intake.accept(OPERATOR, operatorCheck, lock("d4 new"));
    expect(locked.entry.applied[0].record).to.include({ index: 9 });
    expect(locked.entry.batch, "nothing joins a cut batch").to.be.greaterThan(2);
  });

  it("refuses a checkpoint older than the journal (entries appended after it) and scans it", async () => {
    expect(await temp.intake.saveCheckpoint(file)).to.equal(undefined);
    await temp.intake.accept(ISSUER, issuerCheck, submission("after the stop", [issue("h12", "d12")]));
    const opened = await openIntakeState(temp.journal, file);
    expectOrigin(opened.origin, "journal", "STALE", /written at entry 12, and since then the journal has entries from 13 on/);
    expect(opened.state.counters.nextSeq).to.equal(14);
    expect(comparable(opened)).to.deep.equal(comparable(await IntakeState.rebuild(temp.journal)));
    expect(existsSync(file)).to.equal(false);
  });

  it("refuses a checkpoint when a batch record changed since (a batch anchored, nothing appended)", async () => {
    expect(await temp.intake.saveCheckpoint(file)).to.equal(undefined);
    const prepared = (await temp.journal.batch(2))!;
    await temp.journal.putBatch({ ...prepared, state: "anchored", transactionHash: h("tx 2"), blockNumber: 8 });
    const opened = await openIntakeState(temp.journal, file);
    expectOrigin(opened.origin, "journal", "STALE", /batch records changed \(latest batch 2, anchored 2; were 2, 1\)/);
    expect(opened.anchored.batch).to.equal(2);
  });

  it("refuses a checkpoint after a re-base on a correction (entries rewritten, batch records replaced)", async () => {
    expect(await temp.intake.saveCheckpoint(file)).to.equal(undefined);
    const entries: StoredEntry[] = [];
    for await (const { seq, bytes } of temp.journal.entries()) {
      const moved = restampJournalEntry(seq, bytes, { after: 1, delta: 2 });
      if (moved) entries.push({ seq, bytes: moved });
    }
    await temp.journal.rebase({ entries, after: 1, struck: batchRecord(3, [], "struck") });
    const opened = await openIntakeState(temp.journal, file);
    expectOrigin(opened.origin, "journal", "STALE", /entry 12 is another one/);
    expect(comparable(opened)).to.deep.equal(comparable(await IntakeState.rebuild(temp.journal)));
  });

  it("refuses a checkpoint whose journal lost entries or holds others at its position", async () => {
    expect(await temp.intake.saveCheckpoint(file)).to.equal(undefined);
    const other = await tempIntake(POLICY);
    try {
      for (let n = 0; n < 13; n++) await other.intake.accept(ISSUER, issuerCheck, submission(`other ${n}`, [issue(`o${n}`, `e${n}`)]));
      writeFileSync(path.join(other.dir, "state.checkpoint"), readFileSync(file));
      const opened = await openIntakeState(other.journal, path.join(other.dir, "state.checkpoint"));
      expectOrigin(opened.origin, "journal", "STALE", /entry 12 is another one/);
    } finally {
      await other.remove();
    }
  });

  for (const { title, damage, reason } of [
    { title: "an empty file", damage: () => truncateSync(file, 0), reason: /0 bytes, shorter than its header/ },
    {
      title: "truncated in its records",
      damage: () => truncateSync(file, 5000),
      reason: /5000 bytes, its header describes \d+ \(truncated/,
    },
    { title: "one byte short", damage: () => truncateSync(file, statSync(file).size - 1), reason: /truncated/ },
    { title: "a byte changed in its records", damage: () => flip(file, 192 + 82 * 3 + 10), reason: /checksum does not match/ },
    { title: "a byte changed in its nonces", damage: () => flip(file, statSync(file).size - 400), reason: /checksum does not match/ },
    { title: "another format", damage: () => flip(file, 3), reason: /wrong magic number/ },
    { title: "a count out of range", damage: () => flip(file, 8 + 6 * 8), reason: /its header has records|its header describes/ },
  ]) {
    it(`refuses a corrupt checkpoint, ${title}, with the reason, and scans the journal`, async () => {
      expect(await temp.intake.saveCheckpoint(file)).to.equal(undefined);
      damage();
      const opened = await openIntakeState(temp.journal, file);
      expectOrigin(opened.origin, "journal", "UNREADABLE", reason);
      expect(comparable(opened)).to.deep.equal(comparable(await IntakeState.rebuild(temp.journal)));
      expect(existsSync(file)).to.equal(false);
    });
  }

  it("scans the journal when there is no checkpoint (a crash writes none)", async () => {
    const opened = await openIntakeState(temp.journal, file);
    expectOrigin(opened.origin, "journal", "ABSENT", /no state checkpoint/);
    expect(opened.origin.entries).to.equal(13);
  });

  it("writes nothing when intake's state is not what a scan would give (a batch cut and not recorded)", async () => {
    expect(await temp.intake.closeBatch(3)).to.have.length.greaterThan(0); // the anchorer would record it next
    expect(await temp.intake.saveCheckpoint(file)).to.match(/intake cut batch 3 last, the journal records batch 2 last/);
    expect(existsSync(file)).to.equal(false);
    expect(existsSync(`${file}.tmp`)).to.equal(false);
  });
});

describe("the state checkpoint of a table of more than one chunk", () => {
  it("restores 70,000 records (two chunks) and a device index grown past its first size as the scan does", async () => {
    const temp = await tempIntake({ maxBacklog: Infinity });
    try {
      const random = () => bytesToHex(randomBytes(32));
      for (let n = 0; n < 70_000; n += 3_000) {
        const events = Array.from({ length: Math.min(3_000, 70_000 - n) }, () => ({
          ...issue("x", "y"),
          credentialCommitment: random(),
          deviceKeyHash: random(),
        }));
        await temp.intake.accept(ISSUER, issuerCheck, submission(`bulk ${n}`, events));
      }
      const file = path.join(temp.dir, "state.checkpoint");
      expect(await temp.intake.saveCheckpoint(file)).to.equal(undefined);
      expect(statSync(file).size, "two record chunks and 2^17 slots").to.be.greaterThan(2 * 65_536 * 82 + 2 ** 17 * 4);
      const restored = await openIntakeState(temp.journal, file);
      expectOrigin(restored.origin, "checkpoint");
      expect(comparable(restored)).to.deep.equal(comparable(await IntakeState.rebuild(temp.journal)));
    } finally {
      await temp.remove();
    }
  });
});

describe("the state checkpoint over the PostgreSQL journal: checked against the shared journal", function () {
  this.timeout(60_000);
  let url: string;
  let dir: ReturnType<typeof tempDir>;
  const journals: Journal[] = [];
  const instance = async () => {
    const journal = await PostgresJournal.open(url);
    journals.push(journal);
    return { journal, ...(await Intake.open(journal, { ...DEFAULT_BATCH_POLICY, ...POLICY }, 2 ** 32)) };
  };
  beforeEach(async () => {
    url = await freshDatabase();
    dir = tempDir("checkpoint-pg-");
  });
  afterEach(async () => {
    for (const journal of journals.splice(0)) await journal.close().catch(() => undefined);
    dir.remove();
  });

  for (const { title, another, origin } of [
    { title: "nothing written since: restored", another: async () => undefined, origin: { from: "checkpoint" } },
    {
      title: "another instance appended since: refused",
      another: async () => (await instance()).intake.accept(ISSUER, issuerCheck, submission("from B", [issue("hb", "db")])),
      origin: { from: "journal", refused: "STALE", reason: /entries from 13 on/ },
    },
    {
      title: "another instance anchored a batch since: refused",
      another: async () => {
        const b = await instance();
        await b.journal.putBatch({ ...(await b.journal.batch(2))!, state: "anchored", transactionHash: h("tx 2"), blockNumber: 8 });
      },
      origin: { from: "journal", refused: "STALE", reason: /batch records changed/ },
    },
  ] as { title: string; another: () => Promise<unknown>; origin: { from: StateOrigin["from"]; refused?: string; reason?: RegExp } }[]) {
    it(`${title}; the state equals the shared journal's scan`, async () => {
      const a = await instance();
      await eventful(a);
      const file = path.join(dir.dir, "state.checkpoint");
      expect(await a.intake.saveCheckpoint(file)).to.equal(undefined);
      await another();
      const opened = await openIntakeState(a.journal, file);
      expectOrigin(opened.origin, origin.from, origin.refused, origin.reason);
      expect(comparable(opened)).to.deep.equal(comparable(await IntakeState.rebuild(a.journal)));
    });
  }
});

function flip(file: string, at: number): void {
  const bytes = readFileSync(file);
  bytes[at] ^= 0xff;
  writeFileSync(file, bytes);
}
