import { expect } from "chai";
import { id } from "ethers";
import { encodeRecord, Reason, RecordTable, Status, type Hex, type StatusRecord } from "../../registry-service/src/core";

const record = (index: number, status = Status.Active): StatusRecord => ({
  index,
  credentialCommitment: id(`c ${index}`) as Hex,
  deviceKeyHash: id(`d ${index}`) as Hex,
  status,
  reason: status === Status.Suspended ? Reason.LostDevice : Reason.None,
  batch: index + 1,
});

describe("RecordTable (records by index in one byte array)", () => {
  it("returns what was set, undefined for unused and out-of-range slots, and grows past its first block", () => {
    const table = new RecordTable();
    for (const index of [0, 5, 3000]) table.set(record(index));
    table.set(record(5, Status.Suspended)); // overwrite
    expect(table.get(0)).to.deep.equal(record(0));
    expect(table.get(5)).to.deep.equal(record(5, Status.Suspended));
    expect(table.get(3000)).to.deep.equal(record(3000));
    expect(table.raw(3000)).to.deep.equal(encodeRecord(record(3000)));
    for (const unused of [1, 2999, 3001, -1, 0.5]) expect(table.get(unused), String(unused)).to.equal(undefined);
    expect(table.size).to.equal(3001);
    expect([...table.indexes()]).to.deep.equal([0, 5, 3000]);
  });

  it("refuses bytes that are not one record and negative indexes", () => {
    const table = new RecordTable();
    expect(() => table.setRaw(0, new Uint8Array(81))).to.throw(/82 bytes/);
    expect(() => table.setRaw(-1, encodeRecord(record(0)))).to.throw(/non-negative/);
    expect(() => table.set({ ...record(0), status: Status.None })).to.throw(/unused slot/);
  });
});
