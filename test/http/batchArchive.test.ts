import { expect } from "chai";
import { id } from "ethers";
import { blankEvent, Channel, EventKind, Hasher, verifyEventReceipt, type Hex } from "../../registry-service/src/core";
import { BatchArchive } from "../../registry-service/src/http/batchArchive";
import { MemoryJournal } from "../../registry-service/src/journal";
import { ApiError } from "../../registry-service/src/readApi";
import { openIntake } from "../support/tempRegistry";
import { issuerCheck, unsignedSubmission } from "../support/fixtures";

const h = (label: string) => id(label) as Hex;
const issuer = "0x00000000000000000000000000000000000000aa" as Hex;
const issue = (n: number) => ({
  ...blankEvent(EventKind.Issue),
  credentialCommitment: h(`c ${n}`),
  deviceKeyHash: h(`d ${n}`),
  channel: Channel.QrCode,
});

describe("BatchArchive (batches and receipts for auditors)", () => {
  it("reads a cut batch's events once and builds its event tree once, however many receipts are asked", async () => {
    const journal = new MemoryJournal();
    const { intake } = await openIntake(journal);
    for (const n of [1, 2, 3]) {
      await intake.accept(issuer, issuerCheck, unsignedSubmission(h(`n${n}`), [issue(n)]));
    }
    const entries = await intake.closeBatch(1);
    await journal.putBatch({
      batch: 1,
      state: "prepared",
      previousRoot: h("p"),
      statusRoot: h("s"),
      eventRoot: h("e"),
      eventCount: 3,
      eventData: "0x01",
      eventDataHash: h("d"),
      lastSeq: entries[2].seq,
    });
    const hasher = await Hasher.create();
    const archive = new BatchArchive(journal, intake, hasher);

    const first = await archive.batch(1);
    expect(first.contents.applied.map((event) => event.position)).to.deep.equal([0, 1, 2]);
    const receipts = [await archive.receipt(1, 0), await archive.receipt(1, 2)];
    const again = await archive.batch(1);
    expect(again.contents, "the same contents, not read again").to.equal(first.contents);
    expect(again.contents.tree, "the event tree was built once and kept").to.not.equal(undefined);
    for (const receipt of receipts)
      expect(verifyEventReceipt(hasher, receipt.event, { leaf: receipt.leaf, proof: receipt.proof, root: receipt.eventRoot })).to.equal(
        true,
      );
    expect(receipts[1].event.record.index).to.equal(2);

    // the record is read fresh each time: a batch anchored since shows as anchored
    await journal.putBatch({ ...(await journal.batch(1))!, state: "anchored", transactionHash: h("tx"), blockNumber: 5 });
    expect((await archive.batch(1)).summary).to.include({ state: "anchored", transactionHash: h("tx"), blockNumber: 5 });

    const missing = await archive.batch(2).catch((error: unknown) => error);
    expect(missing).to.be.instanceOf(ApiError).and.to.include({ code: "NOT_FOUND", statusCode: 404 });
    expect(await archive.receipt(1, 3).catch((error: unknown) => error)).to.include({ code: "NOT_FOUND" });
  });
});
