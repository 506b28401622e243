import { expect } from "chai";
import fc from "fast-check";
import {
  bytesToHex,
  CoreError,
  emptyRecord,
  Hasher,
  Reason,
  recordLeaves,
  Status,
  StatusTree,
  verifyStatusProof,
  type Hex,
  type PreparedUpdate,
  type StatusRecord,
} from "../../registry-service/src/core";
import { ParallelHasher } from "../../registry-service/src/accel";
import { refRoot } from "../reference/reference";
import { vectors } from "../support/vectors";

const hex32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => bytesToHex(b));
const recordAt = (depth: number) =>
  fc.record({
    index: fc.integer({ min: 0, max: 2 ** depth - 1 }),
    credentialCommitment: hex32,
    deviceKeyHash: hex32,
    status: fc.constantFrom(Status.Active, Status.Suspended, Status.Revoked),
    reason: fc.constantFrom(Reason.None, Reason.LostDevice, Reason.Superseded),
    batch: fc.integer({ min: 0, max: 1000 }),
  }) as fc.Arbitrary<StatusRecord>;

function flipBit(hex: string, bit: number): Hex {
  const bytes = Buffer.from(hex.slice(2), "hex");
  bytes[Math.floor(bit / 8) % bytes.length] ^= 1 << (bit % 8);
  return `0x${bytes.toString("hex")}`;
}

describe("StatusTree", () => {
  let hasher: Hasher;
  before(async () => {
    hasher = await Hasher.create();
  });

  for (const vector of vectors.statusTree.trees) {
    it(`${vector.name}: reproduces the vector root and proofs`, () => {
      const tree = new StatusTree(hasher, vector.depth);
      expect(tree.applyRecords(vector.records as StatusRecord[])).to.equal(vector.root);
      for (const { record, proof } of vector.proofs) expect(tree.prove(record.index)).to.deep.equal(proof);
    });
  }

  it("starts at the empty-tree root and proves every slot unused", () => {
    const tree = new StatusTree(hasher, 32);
    expect(tree.root).to.equal(vectors.statusTree.emptySubtrees[32]);
    for (const index of [0, 1, 2 ** 31, 2 ** 32 - 1]) {
      expect(verifyStatusProof(hasher, tree.root, emptyRecord(index), tree.prove(index), 32)).to.equal(true);
    }
  });

  it("applies random batches incrementally to the same root as the naive reference rebuild", () => {
    const depth = 10;
    fc.assert(
      fc.property(fc.array(fc.array(recordAt(depth), { minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 6 }), (batches) => {
        const tree = new StatusTree(hasher, depth);
        const all = new Map<number, StatusRecord>();
        for (const batch of batches) {
          const root = tree.applyRecords(batch);
          for (const record of batch) all.set(record.index, record);
          expect(root).to.equal(refRoot(all, depth));
        }
        const rebuilt = new StatusTree(hasher, depth);
        expect(rebuilt.applyRecords([...all.values()])).to.equal(tree.root);
      }),
      { numRuns: 60 },
    );
  });

  it("at depth 32 with scattered indexes, incremental equals a one-batch rebuild and every proof verifies", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(recordAt(32), { minLength: 1, maxLength: 30 }), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        (batches, unused) => {
          const tree = new StatusTree(hasher, 32);
          const latest = new Map<number, StatusRecord>();
          for (const batch of batches) {
            tree.applyRecords(batch);
            for (const record of batch) latest.set(record.index, record);
          }
          const rebuilt = new StatusTree(hasher, 32);
          expect(rebuilt.applyRecords([...latest.values()])).to.equal(tree.root);
          for (const record of latest.values()) {
            expect(verifyStatusProof(hasher, tree.root, record, tree.prove(record.index), 32)).to.equal(true);
          }
          if (!latest.has(unused)) {
            expect(verifyStatusProof(hasher, tree.root, emptyRecord(unused), tree.prove(unused), 32)).to.equal(true);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it("rejects a proof once any bit of the proof, record, index or root is flipped", () => {
    const depth = 16;
    fc.assert(
      fc.property(fc.array(recordAt(depth), { minLength: 2, maxLength: 40 }), fc.nat(), fc.nat(), (records, pick, bit) => {
        const tree = new StatusTree(hasher, depth);
        const root = tree.applyRecords(records);
        const latest = new Map(records.map((r) => [r.index, r]));
        const record = [...latest.values()][pick % latest.size];
        const proof = tree.prove(record.index);
        expect(verifyStatusProof(hasher, root, record, proof, depth)).to.equal(true);

        const level = Math.floor(bit / 256) % depth;
        const tamperedProof = proof.map((sibling, l) => (l === level ? flipBit(sibling, bit % 256) : sibling));
        expect(verifyStatusProof(hasher, root, record, tamperedProof, depth), "proof").to.equal(false);
        expect(verifyStatusProof(hasher, flipBit(root, bit % 256), record, proof, depth), "root").to.equal(false);
        const index = record.index ^ (1 << (bit % depth));
        expect(verifyStatusProof(hasher, root, { ...record, index }, proof, depth), "index").to.equal(false);
        for (const field of ["credentialCommitment", "deviceKeyHash"] as const) {
          const changed = { ...record, [field]: flipBit(record[field], bit % 256) };
          expect(verifyStatusProof(hasher, root, changed, proof, depth), field).to.equal(false);
        }
        const batch = record.batch ^ (1 << (bit % 20));
        expect(verifyStatusProof(hasher, root, { ...record, batch }, proof, depth), "batch").to.equal(false);
        const status = record.status === Status.Active ? Status.Suspended : Status.Active;
        expect(verifyStatusProof(hasher, root, { ...record, status }, proof, depth), "status").to.equal(false);
      }),
      { numRuns: 100 },
    );
  });

  it("proves unused slots empty, and such a proof cannot carry a record (nor a record's an empty slot)", () => {
    const depth = 12;
    fc.assert(
      fc.property(fc.array(recordAt(depth), { minLength: 1, maxLength: 30 }), recordAt(depth), (records, forged) => {
        const tree = new StatusTree(hasher, depth);
        const root = tree.applyRecords(records);
        const used = new Set(records.map((r) => r.index));
        fc.pre(!used.has(forged.index));
        const proof = tree.prove(forged.index);
        expect(verifyStatusProof(hasher, root, emptyRecord(forged.index), proof, depth)).to.equal(true);
        expect(verifyStatusProof(hasher, root, forged, proof, depth)).to.equal(false);
        const real = records[records.length - 1];
        expect(verifyStatusProof(hasher, root, emptyRecord(real.index), tree.prove(real.index), depth)).to.equal(false);
      }),
      { numRuns: 100 },
    );
  });

  it("previews a batch's root without changing the tree", () => {
    const depth = 12;
    fc.assert(
      fc.property(
        fc.array(recordAt(depth), { minLength: 1, maxLength: 30 }),
        fc.array(recordAt(depth), { minLength: 1, maxLength: 30 }),
        (first, second) => {
          const tree = new StatusTree(hasher, depth);
          const root = tree.applyRecords(first);
          const proofs = first.map((r) => tree.prove(r.index));
          const preview = tree.previewRecords(second);
          expect(tree.root).to.equal(root);
          expect(first.map((r) => tree.prove(r.index))).to.deep.equal(proofs);
          expect(tree.applyRecords(second)).to.equal(preview);
        },
      ),
      { numRuns: 50 },
    );
  });

  it("commits a prepared update without re-hashing, and refuses it once the tree changed", () => {
    const depth = 12;
    fc.assert(
      fc.property(
        fc.array(recordAt(depth), { minLength: 1, maxLength: 30 }),
        fc.array(recordAt(depth), { minLength: 1, maxLength: 30 }),
        (first, second) => {
          const tree = new StatusTree(hasher, depth);
          const reference = new StatusTree(hasher, depth);
          tree.applyRecords(first);
          reference.applyRecords(first);
          const { indexes, leaves } = recordLeaves(hasher, second);
          const update = tree.prepareLeaves(indexes, leaves);
          const hashes = tree.hashCount;
          expect(update.commit()).to.equal(reference.applyRecords(second));
          expect(tree.hashCount, "no hashing on commit").to.equal(hashes);
          for (const r of [...first, ...second]) expect(tree.prove(r.index)).to.deep.equal(reference.prove(r.index));
          const stale = tree.prepareLeaves(indexes, leaves);
          tree.applyRecords(first);
          expect(() => stale.commit())
            .to.throw(CoreError)
            .with.property("code", "STALE_UPDATE");
        },
      ),
      { numRuns: 50 },
    );
  });

  it("prepares updates on top of uncommitted ones (batches in flight) and commits them only in that order", () => {
    const depth = 12;
    fc.assert(
      fc.property(fc.array(fc.array(recordAt(depth), { minLength: 1, maxLength: 20 }), { minLength: 2, maxLength: 5 }), (batches) => {
        const tree = new StatusTree(hasher, depth);
        const reference = new StatusTree(hasher, depth);
        const before = tree.root;
        const updates: PreparedUpdate[] = [];
        for (const records of batches) {
          const { indexes, leaves } = recordLeaves(hasher, records);
          updates.push(tree.prepareLeaves(indexes, leaves, updates[updates.length - 1]));
          expect(updates[updates.length - 1].root).to.equal(reference.applyRecords(records));
        }
        expect(tree.root, "nothing served changes while they are in flight").to.equal(before);
        expect(() => updates[1].commit(), "not before the one it builds on")
          .to.throw(CoreError)
          .with.property("code", "STALE_UPDATE");
        for (const update of updates) expect(update.commit()).to.equal(update.root);
        expect(tree.root).to.equal(reference.root);
        for (const r of batches.flat()) expect(tree.prove(r.index)).to.deep.equal(reference.prove(r.index));
        // a tree changed another way refuses the prepared updates built on its earlier state
        const { indexes, leaves } = recordLeaves(hasher, batches[0]);
        const first = tree.prepareLeaves(indexes, leaves);
        const second = tree.prepareLeaves(indexes, leaves, first);
        tree.applyRecords(batches[1]);
        expect(() => first.commit())
          .to.throw(CoreError)
          .with.property("code", "STALE_UPDATE");
        expect(() => tree.prepareLeaves(indexes, leaves, second))
          .to.throw(CoreError)
          .with.property("code", "STALE_UPDATE");
      }),
      { numRuns: 40 },
    );
  });

  it("checks every index before changing anything", () => {
    const tree = new StatusTree(hasher, 8);
    const before = tree.root;
    const leaf = new Uint8Array(32).fill(1);
    expect(() =>
      tree.applyBatch([
        { index: 3, leaf },
        { index: 256, leaf },
      ]),
    )
      .to.throw(CoreError)
      .with.property("code", "INDEX_OUT_OF_RANGE");
    expect(tree.root).to.equal(before);
    expect(tree.size).to.equal(0);
  });

  describe("with a worker thread hashing half of each large level", () => {
    let parallel: ParallelHasher;
    before(async () => {
      parallel = await ParallelHasher.create(1024); // small, so that the shared buffers must grow
    });
    after(() => parallel.close());

    it("gives the same roots and proofs as one thread, batch after batch", () => {
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 1, max: 30_000 }), { minLength: 1, maxLength: 3 }), fc.integer(), (sizes, seed) => {
          const single = new StatusTree(hasher, 32);
          const shared = new StatusTree(hasher, 32, 16, parallel);
          let x = seed >>> 0 || 1;
          for (const size of sizes) {
            const indexes = Array.from({ length: size }, () => ((x = (x * 1103515245 + 12345) >>> 0), x % 200_000));
            const leaves = new Uint8Array(size * 32).map(() => ((x = (x * 1103515245 + 12345) >>> 0), x >>> 24));
            expect(shared.applyLeaves(indexes, leaves)).to.equal(single.applyLeaves(indexes, leaves));
          }
          for (const index of [0, 1, 199_999, 4_000_000]) expect(shared.prove(index)).to.deep.equal(single.prove(index));
          expect(shared.size).to.equal(single.size);
        }),
        { numRuns: 8 },
      );
    });
  });

  describe("snapshots", () => {
    const build = () => {
      const tree = new StatusTree(hasher, 32);
      tree.applyRecords(vectors.statusTree.trees[1].records as StatusRecord[]);
      tree.applyRecords(Array.from({ length: 500 }, (_, i) => ({ ...emptyRecord(i * 7919), status: Status.Active, batch: 2 })));
      return tree;
    };
    // as read from disk: a Buffer, here deliberately a view at an odd offset of a larger allocation
    const join = (chunks: Uint8Array[]) => Buffer.concat([Buffer.alloc(3), ...chunks]).subarray(3);

    it("restores the same root, size and proofs without re-hashing", () => {
      const tree = build();
      const restored = StatusTree.restore(hasher, join(tree.snapshot()));
      expect(restored.root).to.equal(tree.root);
      expect(restored.size).to.equal(tree.size);
      expect(restored.hashCount).to.equal(0);
      for (const index of [0, 1, 7919, 65_536, 4_294_967_295, 12]) expect(restored.prove(index)).to.deep.equal(tree.prove(index));
      restored.applyRecords([{ ...emptyRecord(5), status: Status.Revoked, batch: 3 }]);
      tree.applyRecords([{ ...emptyRecord(5), status: Status.Revoked, batch: 3 }]);
      expect(restored.root).to.equal(tree.root);
    });

    for (const { title, mangle } of [
      { title: "truncated", mangle: (b: Uint8Array) => b.subarray(0, b.length - 100) },
      { title: "a flipped byte deep inside", mangle: (b: Uint8Array) => ((b[Math.floor(b.length / 2)] ^= 1), b) },
      { title: "empty", mangle: () => new Uint8Array(0) },
    ]) {
      it(`refuses a snapshot that is ${title}`, () => {
        const bytes = mangle(join(build().snapshot()));
        expect(() => StatusTree.restore(hasher, bytes))
          .to.throw(CoreError)
          .with.property("code", "INVALID_SNAPSHOT");
      });
    }
  });
});
