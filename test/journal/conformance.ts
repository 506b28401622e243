import { expect } from "chai";
import { id } from "ethers";
import type { Hex } from "../../registry-service/src/core";
import type { BatchRecord, Journal } from "../../registry-service/src/journal";

/** A journal under test; `reopen` (a driver that persists) closes it and opens the same data again. */
export interface JournalUnderTest {
  journal: Journal;
  reopen?: () => Promise<Journal>;
  remove: () => Promise<void>;
}

const bytes = (seq: number) => Uint8Array.from({ length: 3 + (seq % 5) }, (_, i) => (seq * 7 + i) & 0xff);
const record = (batch: number, state: BatchRecord["state"] = "prepared"): BatchRecord => ({
  batch,
  state,
  previousRoot: id(`p${batch}`) as Hex,
  statusRoot: id(`s${batch}`) as Hex,
  eventRoot: id(`e${batch}`) as Hex,
  eventCount: batch,
  eventData: "0x01020304" as Hex,
  eventDataHash: id(`d${batch}`) as Hex,
  lastSeq: batch * 10,
});
const all = async <T>(items: AsyncIterable<T>) => {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
};

/**
 * What every Journal driver must do (docs/architecture.md, "a new storage driver"): run this suite
 * against it. Entries come back byte for byte and in sequence order, ranges are half-open, batch
 * records are replaced whole, and (for drivers that persist) everything survives a reopen.
 */
export function journalConformance(name: string, open: () => Promise<JournalUnderTest>, { persistent }: { persistent: boolean }): void {
  describe(`Journal conformance: ${name}`, () => {
    let subject: JournalUnderTest;
    let journal: Journal;
    beforeEach(async () => {
      subject = await open();
      journal = subject.journal;
    });
    afterEach(() => subject.remove());

    it("is empty when new", async () => {
      expect(await all(journal.entries())).to.deep.equal([]);
      expect(await journal.entry(0)).to.equal(undefined);
      expect(await journal.latestBatch()).to.equal(undefined);
      expect(await journal.batch(1)).to.equal(undefined);
    });

    it("appends entries and reads them back byte for byte, in order, by half-open range", async () => {
      await journal.append([0, 1, 2].map((seq) => ({ seq, bytes: bytes(seq) })));
      await journal.append([3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17].map((seq) => ({ seq, bytes: bytes(seq) })));
      const read = await all(journal.entries());
      expect(read.map((e) => e.seq)).to.deep.equal([...Array(18).keys()]); // numeric order, past one hex digit
      read.forEach(({ seq, bytes: got }) => expect([...got]).to.deep.equal([...bytes(seq)]));
      expect((await all(journal.entries({ from: 2, to: 5 }))).map((e) => e.seq)).to.deep.equal([2, 3, 4]);
      expect((await all(journal.entries({ from: 16 }))).map((e) => e.seq)).to.deep.equal([16, 17]);
      expect((await all(journal.entries({ to: 1 }))).map((e) => e.seq)).to.deep.equal([0]);
      expect([...(await journal.entry(4))!]).to.deep.equal([...bytes(4)]);
    });

    it("keeps a batch record per batch, replaced whole, listed newest first", async () => {
      for (const n of [1, 2, 3]) await journal.putBatch(record(n));
      const anchored = { ...record(2, "anchored"), transactionHash: id("tx") as Hex, blockNumber: 9 };
      await journal.putBatch(anchored);
      expect(await journal.batch(2)).to.deep.equal(anchored);
      expect(await journal.latestBatch()).to.deep.equal(record(3));
      expect((await all(journal.batches({ limit: 10 }))).map((r) => r.batch)).to.deep.equal([3, 2, 1]);
      expect((await all(journal.batches({ before: 3, limit: 1 }))).map((r) => r.batch)).to.deep.equal([2]);
    });

    it("hands out copies: changing what it returned changes nothing stored", async () => {
      await journal.append([{ seq: 0, bytes: bytes(0) }]);
      await journal.putBatch(record(1));
      (await journal.entry(0))![0] ^= 0xff;
      (await journal.batch(1))!.statusRoot = id("changed") as Hex;
      expect([...(await journal.entry(0))!]).to.deep.equal([...bytes(0)]);
      expect((await journal.batch(1))!.statusRoot).to.equal(record(1).statusRoot);
    });

    it("re-bases in one write: entries replaced, later batch records dropped, the struck record put", async () => {
      await journal.append([0, 1, 2].map((seq) => ({ seq, bytes: bytes(seq) })));
      for (const n of [1, 2, 3]) await journal.putBatch(record(n, n < 3 ? "anchored" : "prepared"));
      const struck = { ...record(7, "struck"), correction: { base: 2, through: 7 } };
      await journal.rebase({ entries: [{ seq: 2, bytes: bytes(20) }], after: 2, struck });
      if (persistent) journal = subject.journal = await subject.reopen!();
      expect((await all(journal.entries())).map((e) => [...e.bytes])).to.deep.equal([bytes(0), bytes(1), bytes(20)].map((b) => [...b]));
      expect((await all(journal.batches({ limit: 10 }))).map((r) => [r.batch, r.state])).to.deep.equal([
        [7, "struck"],
        [2, "anchored"],
        [1, "anchored"],
      ]);
      expect(await journal.latestBatch()).to.deep.equal(struck);
    });

    if (persistent) {
      it("keeps everything across a reopen", async () => {
        await journal.append([0, 1].map((seq) => ({ seq, bytes: bytes(seq) })));
        await journal.putBatch(record(1, "anchored"));
        journal = subject.journal = await subject.reopen!();
        expect((await all(journal.entries())).map((e) => [...e.bytes])).to.deep.equal([[...bytes(0)], [...bytes(1)]]);
        expect(await journal.latestBatch()).to.deep.equal(record(1, "anchored"));
      });
    }
  });
}
