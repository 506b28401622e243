import { expect } from "chai";
import { keccak256 } from "ethers";
import fc from "fast-check";
import {
  bytesToHex,
  emptyRecord,
  HashIndex,
  hexToBytes,
  keyMix,
  RECORD_DEVICE_AT,
  RecordKeyIndex,
  RecordTable,
  Status,
  type Hex,
} from "../../registry-service/src/core";

const key32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((b) => b.some((x) => x !== 0));

describe("HashIndex (32-byte keys to indexes on typed arrays)", () => {
  it("behaves like a Map through growth, overwrites and misses, whether keys come as hex or bytes", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(key32, fc.nat({ max: 0xffffffff })), { maxLength: 3000 }),
        fc.array(key32, { maxLength: 50 }),
        (pairs, probes) => {
          const index = new HashIndex(16);
          const reference = new Map<string, number>();
          pairs.forEach(([key, value], i) => {
            const hex = bytesToHex(key);
            if (i % 2) index.set(hex, value);
            else index.set(key, value);
            reference.set(hex, value);
          });
          expect(index.size).to.equal(reference.size);
          for (const [hex, value] of reference) {
            expect(index.get(hex as Hex)).to.equal(value);
            expect(index.get(hexToBytes(hex))).to.equal(value);
            expect(index.get(`0x${hex.slice(2).toUpperCase()}` as Hex), "hex case does not matter").to.equal(value);
          }
          for (const probe of probes) expect(index.get(probe)).to.equal(reference.get(bytesToHex(probe)));
        },
      ),
      { numRuns: 40 },
    );
  });

  it("keeps keys that share their first word apart (they probe past each other)", () => {
    const index = new HashIndex();
    const keys = Array.from({ length: 5000 }, (_, i) => {
      const key = new Uint8Array(32).fill(7);
      key[31] = i & 0xff;
      key[30] = i >> 8;
      return key;
    });
    keys.forEach((key, i) => index.set(key, i));
    keys.forEach((key, i) => expect(index.get(key)).to.equal(i));
  });

  it("refuses a zero key, a key of the wrong length and a value outside 32 bits", () => {
    const index = new HashIndex();
    expect(() => index.set(new Uint8Array(32), 1)).to.throw(/zero key/);
    expect(() => index.set(new Uint8Array(31).fill(1), 1)).to.throw(/32 bytes/);
    expect(() => index.set(new Uint8Array(32).fill(1), 2 ** 32)).to.throw(/32-bit/);
    expect(() => index.get("0x1234" as Hex)).to.throw(/32 bytes/);
  });
});

describe("RecordKeyIndex (device bindings whose keys are read from the records)", () => {
  /** Records whose device fields are `devices` (record i carries devices[i]), and an index over them. */
  function over(devices: Uint8Array[]) {
    const table = new RecordTable();
    devices.forEach((device, i) =>
      table.set({ ...emptyRecord(i), status: Status.Active, credentialCommitment: bytesToHex(device), deviceKeyHash: bytesToHex(device) }),
    );
    const index = new RecordKeyIndex(
      (value, key) => table.fieldEquals(value, RECORD_DEVICE_AT, key),
      (value) => table.keyMixAt(value, RECORD_DEVICE_AT),
      16,
    );
    return { table, index };
  }

  it("behaves like a Map from each device to the last index bound to it, through growth and misses", () => {
    fc.assert(
      fc.property(fc.array(key32, { minLength: 1, maxLength: 2500 }), fc.array(key32, { maxLength: 30 }), (keys, probes) => {
        const devices = [...keys, ...keys.slice(0, keys.length >> 2)]; // a quarter of the devices get a second credential
        const { index } = over(devices);
        const reference = new Map<string, number>();
        devices.forEach((device, i) => {
          index.set(i % 2 ? device : bytesToHex(device), i);
          reference.set(bytesToHex(device), i);
        });
        expect(index.size).to.equal(reference.size);
        for (const [hex, value] of reference) expect(index.get(hex as Hex)).to.equal(value);
        for (const probe of probes) expect(index.get(probe)).to.equal(reference.get(bytesToHex(probe)));
      }),
      { numRuns: 30 },
    );
  });

  it("grows a step at a time: every binding answers while the previous slots are moved, rebinding included; saved() finishes the move", () => {
    const devices = Array.from({ length: 4000 }, (_, i) => keccak256(new TextEncoder().encode(`device ${i % 3000}`))).map((hex) =>
      hexToBytes(hex as Hex, 32),
    );
    const { index } = over(devices);
    const reference = new Map<string, number>();
    let sawGrowing = 0;
    devices.forEach((device, i) => {
      index.set(device, i); // the last 1,000 rebind devices 0..999 while a growth may be under way
      reference.set(bytesToHex(device), i);
      if (!index.growing) return;
      sawGrowing++;
      for (let j = i; j >= 0; j -= 97) expect(index.get(devices[j])).to.equal(reference.get(bytesToHex(devices[j])));
    });
    expect(sawGrowing, "growths were spread over many sets").to.be.greaterThan(100);
    expect(index.size).to.equal(3000);
    index.set(devices[0], 3000); // one more rebinding; then a save ends any growth still under way
    reference.set(bytesToHex(devices[0]), 3000);
    const saved = index.saved();
    expect(index.growing).to.equal(false);
    expect(saved.slots.length * 4, "one generation of slots left").to.equal(index.memoryBytes);
    const { index: restored } = over(devices);
    restored.restore(saved);
    for (const [hex, value] of reference) expect(restored.get(hex as Hex)).to.equal(value);
  });

  it("keeps devices that differ only in their last bytes apart, spread (not one probe run), and refuses a binding its record does not carry", () => {
    const devices = Array.from({ length: 3000 }, (_, i) => {
      const key = new Uint8Array(32).fill(9);
      key[31] = i & 0xff;
      key[30] = i >> 8;
      return key;
    });
    const homes = new Set(devices.map((device) => keyMix(device) >>> 20));
    expect(homes.size, "the keys' home slots spread over a 4,096-slot table").to.be.greaterThan(1500);
    const { index } = over(devices);
    devices.forEach((device, i) => index.set(device, i));
    devices.forEach((device, i) => expect(index.get(device)).to.equal(i));
    expect(() => index.set(devices[0], 1)).to.throw(/does not carry/);
    expect(index.memoryBytes, "4 bytes a slot").to.equal(4 * 4096);
  });
});
