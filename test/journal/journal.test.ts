import { expect } from "chai";
import { id } from "ethers";
import { Level } from "level";
import { blankEvent, Channel, EventKind, type Hex } from "../../registry-service/src/core";
import { decodeJournalEntry, encodeJournalEntry, JournalError, LevelJournal, MemoryJournal } from "../../registry-service/src/journal";
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
