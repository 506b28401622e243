import { expect } from "chai";
import fc from "fast-check";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { id } from "ethers";
import { emptyRecord, Hasher, Status, StatusTree, verifyStatusProof, type Hex, type StatusRecord } from "../../registry-service/src/core";
import { deployWithRoles } from "../support/fixtures";

const DEPTH = 16;
const CASES = 300;

/** One random case: a real record (or unused slot) with its proof, maybe tampered in one place. */
type Case = { record: StatusRecord; proof: string[]; root: Hex };

describe("TypeScript verifier and StatusRegistry.verifyStatus agree", () => {
  async function anchoredTree() {
    const f = await deployWithRoles(DEPTH);
    const hasher = await Hasher.create();
    const tree = new StatusTree(hasher, DEPTH);
    const random = fc.sample(fc.integer({ min: 0, max: 2 ** DEPTH - 1 }), { numRuns: 80, seed: 42 });
    const records: StatusRecord[] = [...new Set(random)].map((index, i) => ({
      index,
      credentialCommitment: id(`commitment ${index}`) as Hex,
      deviceKeyHash: id(`device ${index}`) as Hex,
      status: (1 + (i % 3)) as Status,
      reason: i % 3 === 0 ? 0 : 1 + (i % 5),
      batch: 1,
    }));
    const previous = (await f.registry.latestBatch()).statusRoot;
    const root = tree.applyRecords(records);
    await f.registry.connect(f.publisher).anchor(1, previous, root, id("events"), records.length, "0x01");
    return { ...f, hasher, tree, records, root };
  }

  it(`on ${CASES} random valid and tampered cases`, async () => {
    const { registry, hasher, tree, records, root } = await loadFixture(anchoredTree);
    const flip = (hex: string, bit: number) => {
      const bytes = Buffer.from(hex.slice(2), "hex");
      bytes[Math.floor(bit / 8) % bytes.length] ^= 1 << (bit % 8);
      return `0x${bytes.toString("hex")}` as Hex;
    };
    const cases = fc
      .sample(fc.tuple(fc.nat(records.length * 2), fc.integer({ min: 0, max: 7 }), fc.nat(1 << 16)), { numRuns: CASES, seed: 7 })
      .map(([pick, tamper, bit]): Case => {
        const record = pick < records.length ? records[pick] : emptyRecord((pick * 7919) % 2 ** DEPTH);
        const proof = tree.prove(record.index);
        switch (tamper) {
          case 0:
            return { record, proof, root };
          case 1:
            return { record, proof: proof.map((s, l) => (l === bit % DEPTH ? flip(s, bit) : s)), root };
          case 2:
            return { record: { ...record, index: (record.index ^ (1 << (bit % DEPTH))) >>> 0 }, proof, root };
          case 3:
            return { record: { ...record, credentialCommitment: flip(record.credentialCommitment, bit) }, proof, root };
          case 4:
            return { record: { ...record, status: ((record.status + 1) % 4) as Status }, proof, root };
          case 5:
            return { record: { ...record, batch: record.batch + 1 + (bit % 5) }, proof, root };
          case 6:
            return { record, proof: proof.slice(0, DEPTH - 1 - (bit % 3)), root };
          default:
            return { record: { ...record, deviceKeyHash: flip(record.deviceKeyHash, bit) }, proof, root };
        }
      });

    let valid = 0;
    for (const { record, proof, root: r } of cases) {
      const ts = verifyStatusProof(hasher, r, record, proof, DEPTH);
      let chain: boolean;
      try {
        expect(await registry.verifyStatus(r, record, proof)).to.equal(BigInt(record.status));
        chain = true;
      } catch {
        chain = false;
      }
      expect(chain, `index ${record.index}, proof of ${proof.length}, status ${record.status}`).to.equal(ts);
      valid += ts ? 1 : 0;
    }
    // both outcomes must be well represented, or the agreement says little
    expect(valid).to.be.within(CASES / 8, (CASES * 7) / 8);
  });
});
