import { expect } from "chai";
import { id } from "ethers";
import { Level } from "level";
import { blankEvent, Channel, EventKind, type Hex } from "../../registry-service/src/core";
import {
  decodeJournalEntry,
  encodeJournalEntry,
  JournalError,
  LevelJournal,
  MemoryJournal,
  PostgresJournal,
  PostgresLease,
} from "../../registry-service/src/journal";
import { freshDatabase } from "../support/postgres";
import { openIntake, tempDir } from "../support/tempRegistry";
import { issuerCheck, unsignedSubmission } from "../support/fixtures";
import { journalConformance } from "./conformance";

journalConformance("MemoryJournal", async () => ({ journal: new MemoryJournal(), remove: async () => undefined }), { persistent: false });

journalConformance(
  "LevelJournal",
  async () => {
    const temp = tempDir("journal-");
    const subject = {
      journal: await LevelJournal.open(temp.dir),
      reopen: async () => {
        await subject.journal.close();
        return LevelJournal.open(temp.dir);
      },
      remove: async () => {
        await subject.journal.close().catch(() => undefined);
        temp.remove();
      },
    };
    return subject;
  },
  { persistent: true },
);

journalConformance(
  "PostgresJournal",
  async () => {
    const url = await freshDatabase();
    const subject = {
      journal: await PostgresJournal.open(url),
      reopen: async () => {
        await subject.journal.close();
        return PostgresJournal.open(url);
      },
      remove: () => subject.journal.close().catch(() => undefined),
    };
    return subject;
  },
  { persistent: true },
);

describe("PostgresJournal: the lease and the fence", function () {
  this.timeout(60_000);
  let url: string;
  let lease: PostgresLease;
  const opened: { close(): Promise<void> }[] = [];
  const open = async (epoch?: number) => {
    const journal = await PostgresJournal.open(url, { epoch });
    opened.push(journal);
    return journal;
  };
  beforeEach(async () => {
    url = await freshDatabase();
    lease = await PostgresLease.open(url);
    opened.push(lease);
  });
  afterEach(async () => {
    for (const one of opened.splice(0)) await one.close();
  });

  it("is taken by one instance at a time, each take-over under a higher epoch, and released at once", async () => {
    const first = await lease.tryAcquire("a", "http://a", 60_000);
    expect(first).to.equal(1);
    expect(await lease.tryAcquire("b", "http://b", 60_000), "held by a").to.equal(undefined);
    expect(await lease.current()).to.deep.include({ epoch: 1, holder: "a", url: "http://a", valid: true });
    expect(await lease.renew(first!, 60_000)).to.equal(true);
    await lease.release(first!);
    expect(await lease.holds(first!)).to.equal(false);
    const second = await lease.tryAcquire("b", "http://b", 60_000);
    expect(second).to.equal(2);
    expect(await lease.renew(first!, 60_000), "a's epoch is over").to.equal(false);
    expect(await lease.holds(second!)).to.equal(true);
  });

  it("lets a lease expire on the database's clock, and the next instance take it", async () => {
    const first = await lease.tryAcquire("a", "http://a", 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await lease.holds(first!)).to.equal(false);
    expect(await lease.tryAcquire("b", "http://b", 60_000)).to.equal(first! + 1);
  });

  it("refuses every write of a former leader with FENCED, in the database, and keeps the new leader's", async () => {
    const first = (await lease.tryAcquire("a", "http://a", 60_000))!;
    const former = await open(first);
    await former.append([{ seq: 0, bytes: Uint8Array.of(1) }]);
    await lease.release(first);
    const second = (await lease.tryAcquire("b", "http://b", 60_000))!;
    const leader = await open(second);
    await leader.append([{ seq: 1, bytes: Uint8Array.of(2) }]);
    const struck = { ...(await leaderBatch()), state: "struck" as const };
    for (const write of [
      () => former.append([{ seq: 2, bytes: Uint8Array.of(3) }]),
      () => former.putBatch(struck),
      () => former.rebase({ entries: [{ seq: 0, bytes: Uint8Array.of(9) }], after: 0, struck }),
    ]) {
      const error = await write().catch((e: unknown) => e);
      expect(error, "a former leader's write").to.be.instanceOf(JournalError);
      expect((error as JournalError).code).to.equal("FENCED");
    }
    const stored = [];
    for await (const { seq, bytes } of leader.entries()) stored.push([seq, ...bytes]);
    expect(stored).to.deep.equal([
      [0, 1],
      [1, 2],
    ]);
    expect(await leader.latestBatch()).to.equal(undefined);
  });

  it("a leader paused in the middle of a write (lease row held FOR SHARE) holds a take-over up for a bounded time only", async () => {
    const pg = (await import("pg")).default;
    const first = (await lease.tryAcquire("a", "http://a", 60_000))!;
    const former = await open(first);
    // the former leader's process stops right after its write took the lease row FOR SHARE,
    // before its INSERT: as a SIGSTOP or a frozen VM between two round trips would
    const query = pg.Client.prototype.query;
    let reached!: () => void;
    const atPause = new Promise<void>((resolve) => (reached = resolve));
    let resume!: () => void;
    const resumed = new Promise<void>((resolve) => (resume = resolve));
    pg.Client.prototype.query = function (this: unknown, ...args: unknown[]) {
      if (typeof args[0] === "string" && args[0].startsWith("INSERT INTO journal_entries")) {
        reached();
        return resumed.then(() => (query as (...a: unknown[]) => unknown).apply(this, args));
      }
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof query;
    try {
      const write = former.append([{ seq: 0, bytes: Uint8Array.of(1) }]).then(
        () => "written",
        (error: unknown) => error,
      );
      await atPause;
      await lease.release(first); // the lease runs out while it is stopped
      // the take-over's UPDATE waits for the paused transaction, until the server ends that idle session
      const second = await lease.tryAcquire("b", "http://b", 60_000);
      expect(second, "the standby takes over while the former leader is still stopped").to.equal(first + 1);
      resume();
      expect(await write, "the paused write, resumed, is refused").to.not.equal("written");
    } finally {
      pg.Client.prototype.query = query;
      resume();
    }
    const reader = await open();
    expect(await reader.entry(0), "nothing of it stored").to.equal(undefined);
  });

  it("reads a journal longer than one page of rows whole and in order", async () => {
    const journal = await open();
    const count = 12_345; // two and a half pages
    await journal.append(Array.from({ length: count }, (_, seq) => ({ seq, bytes: Uint8Array.of(seq & 0xff, seq >> 8) })));
    let expected = 0;
    const wrong: number[] = [];
    for await (const { seq, bytes } of journal.entries()) {
      if (seq !== expected || bytes[0] !== (expected & 0xff) || bytes[1] !== expected >> 8) wrong.push(expected);
      expected++;
    }
    expect(wrong, "entries out of order or not as written").to.deep.equal([]);
    expect(expected).to.equal(count);
    let from = 0;
    for await (const { seq } of journal.entries({ from: 4999, to: 5002 })) expect(seq).to.equal(4999 + from++);
    expect(from).to.equal(3);
  });

  it("refuses a database whose journal schema is another version", async () => {
    const journal = await open();
    await journal.close();
    opened.pop();
    const pg = await import("pg");
    const client = new pg.default.Client({ connectionString: url });
    await client.connect();
    await client.query("UPDATE journal_meta SET value = 99 WHERE key = 'schema'");
    await client.end();
    const error = await PostgresJournal.open(url).catch((e: unknown) => e);
    expect((error as JournalError).code).to.equal("UNREADABLE_DATA");
    expect((error as Error).message).to.match(/schema 99/);
  });
});

async function leaderBatch() {
  return {
    batch: 1,
    previousRoot: id("p") as Hex,
    statusRoot: id("s") as Hex,
    eventRoot: id("e") as Hex,
    eventCount: 1,
    eventData: "0x01" as Hex,
    eventDataHash: id("d") as Hex,
    lastSeq: 1,
  };
}

const h = (label: string) => id(label) as Hex;
const entry = {
  seq: 0,
  batch: 1,
  signer: "0x00000000000000000000000000000000000000aa" as Hex,
  submission: unsignedSubmission(h("n1"), []),
  applied: [],
};

describe("LevelJournal: its data format", () => {
  let temp: ReturnType<typeof tempDir>;
  beforeEach(() => (temp = tempDir("journal-")));
  afterEach(() => temp.remove());

  it("refuses a data directory of the earlier JSON format instead of misreading it", async () => {
    const old = new Level<string, unknown>(temp.dir, { valueEncoding: "json" });
    await old.sublevel<string, number>("meta", { valueEncoding: "json" }).put("nextSeq", 3);
    await old.close();
    const error = await LevelJournal.open(temp.dir).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(JournalError);
    expect((error as JournalError).code).to.equal("UNREADABLE_DATA");
    expect((error as Error).message).to.match(/earlier version/);
  });

  it("refuses to open on a journal entry that does not add up, naming it", async () => {
    const journal = await LevelJournal.open(temp.dir);
    const { intake } = await openIntake(journal);
    const issue = {
      ...blankEvent(EventKind.Issue),
      credentialCommitment: h("c"),
      deviceKeyHash: h("phone"),
      channel: Channel.QrCode,
    };
    const { entry: accepted } = await intake.accept(entry.signer, issuerCheck, { ...entry.submission, events: [issue] });
    const bytes = encodeJournalEntry(accepted);
    await journal.append([{ seq: 0, bytes: bytes.subarray(0, bytes.length - 1) }]);
    const error = await openIntake(journal).catch((e: unknown) => e);
    await journal.close();
    expect((error as JournalError).code).to.equal("UNREADABLE_DATA");
    expect((error as Error).message).to.match(/journal entry 0/);
  });

  it("journals entries in a compact binary form that decodes to the same entry", async () => {
    const journal = new MemoryJournal();
    const { intake } = await openIntake(journal);
    const issue = (device: string) => ({
      ...blankEvent(EventKind.Issue),
      credentialCommitment: h(device),
      deviceKeyHash: h(device),
      channel: Channel.QrCode,
    });
    const { entry: accepted } = await intake.accept(entry.signer, issuerCheck, { ...entry.submission, events: [issue("A"), issue("B")] });
    const bytes = encodeJournalEntry(accepted);
    expect(decodeJournalEntry(accepted.seq, bytes)).to.deep.equal(accepted);
    expect(bytes.length).to.be.lessThan(JSON.stringify(accepted).length / 2);
    expect(() => decodeJournalEntry(0, Uint8Array.of(9, ...bytes.subarray(1)))).to.throw(/format 9/);
  });
});
