import { expect } from "chai";
import {
  bytesToHex,
  CoreError,
  computeStatusRoot,
  decodeAppliedEvent,
  decodeBatchData,
  decodeRecord,
  encodeAppliedEvent,
  encodeBatchData,
  encodeRecord,
  eventDataHash,
  EventTree,
  Hasher,
  hexToBytes,
  recordLeaf,
  recoverSubmitter,
  canonicalSignature,
  credentialCommitment,
  deviceKeyHash,
  holderRef,
  submissionDigest,
  verifyEventReceipt,
  verifyStatusProof,
  type AppliedEvent,
  type EcPublicJwk,
  type StatusEvent,
  type StatusRecord,
  type Hex,
} from "../../registry-service/src/core";
import { vectors } from "../support/vectors";

describe("core against the shared vectors", () => {
  let hasher: Hasher;
  before(async () => {
    hasher = await Hasher.create();
  });

  describe("status records and the status tree", () => {
    it("encodes records byte for byte and hashes them to the vector leaves", () => {
      for (const { record, bytes, leaf } of vectors.statusTree.encodings) {
        expect(bytesToHex(encodeRecord(record as StatusRecord))).to.equal(bytes);
        expect(decodeRecord(hexToBytes(bytes))).to.deep.equal(record);
        expect(bytesToHex(recordLeaf(hasher, record as StatusRecord))).to.equal(leaf);
      }
    });

    it("derives the empty-subtree hash of every level", () => {
      const empty = hasher.emptySubtrees(32).map(bytesToHex);
      expect(empty).to.deep.equal(vectors.statusTree.emptySubtrees);
    });

    for (const tree of vectors.statusTree.trees) {
      it(`${tree.name}: every proof leads to the root`, () => {
        for (const { record, proof } of tree.proofs) {
          expect(computeStatusRoot(hasher, record as StatusRecord, proof, tree.depth)).to.equal(tree.root);
          expect(verifyStatusProof(hasher, tree.root as `0x${string}`, record as StatusRecord, proof, tree.depth)).to.equal(true);
        }
      });

      for (const bad of tree.invalid) {
        it(`${tree.name}: rejects ${bad.name} with ${bad.outcome}`, () => {
          const record = bad.record as StatusRecord;
          expect(verifyStatusProof(hasher, tree.root as `0x${string}`, record, bad.proof, tree.depth)).to.equal(false);
          if (bad.outcome === "ROOT_MISMATCH") {
            expect(computeStatusRoot(hasher, record, bad.proof, tree.depth)).to.not.equal(tree.root);
          } else {
            expect(() => computeStatusRoot(hasher, record, bad.proof, tree.depth))
              .to.throw(CoreError)
              .with.property("code", bad.outcome);
          }
        });
      }
    }
  });

  describe("applied events and the event tree", () => {
    it("encodes applied events byte for byte", () => {
      for (const { event, bytes, leaf } of vectors.eventTree.applied) {
        expect(bytesToHex(encodeAppliedEvent(event as AppliedEvent))).to.equal(bytes);
        expect(decodeAppliedEvent(hexToBytes(bytes))).to.deep.equal({ ...event, signer: event.signer.toLowerCase() });
        expect(bytesToHex(hasher.leaf(hexToBytes(bytes)))).to.equal(leaf);
      }
    });

    for (const { size, root, receipts } of vectors.eventTree.trees) {
      it(`builds the ${size}-event tree's root and receipts as the spec does`, () => {
        const events = vectors.eventTree.applied.slice(0, size).map((v) => v.event as AppliedEvent);
        const tree = new EventTree(hasher, events);
        expect(tree.root).to.equal(root);
        for (const expected of receipts) {
          const receipt = tree.receipt(expected.position);
          expect(receipt).to.deep.equal({ ...expected, root });
          expect(verifyEventReceipt(hasher, events[expected.position], receipt)).to.equal(true);
        }
      });
    }
  });

  describe("identifiers (docs/spec.md 4.5)", () => {
    const { devices, notOnCurve, credentials, issuerHolderKey, holders } = vectors.identifiers;

    it("derives deviceKeyHash from a P-256 key in each encoding: JWK, uncompressed and compressed SEC1", () => {
      for (const device of devices) {
        for (const key of [device.jwk as EcPublicJwk, device.uncompressed as Hex, device.compressed as Hex, hexToBytes(device.compressed)])
          expect(deviceKeyHash(key)).to.equal(device.deviceKeyHash);
      }
    });

    it("refuses a device key that is not a P-256 point with INVALID_FIELD", () => {
      expect(() => deviceKeyHash(notOnCurve.compressed as Hex))
        .to.throw(CoreError)
        .with.property("code", notOnCurve.outcome);
    });

    it("derives credentialCommitment from the credential id and its salt", () => {
      for (const { credentialId, salt, credentialCommitment: expected } of credentials)
        expect(credentialCommitment(credentialId, salt as Hex)).to.equal(expected);
    });

    it("derives holderRef under the issuer's key from a national id however it is written", () => {
      for (const { nationalId, holderRef: expected } of holders) expect(holderRef(issuerHolderKey as Hex, nationalId)).to.equal(expected);
    });
  });

  describe("signed submissions and anchor calldata", () => {
    const { domain, submissions, batchData } = vectors.submissions;
    const registryDomain = { chainId: domain.chainId, verifyingContract: domain.verifyingContract };

    it("computes the EIP-712 digest and recovers each signer, with v as 27/28 or 0/1", () => {
      for (const s of submissions) {
        const request = { nonce: s.nonce as Hex, deadline: s.deadline, events: s.events as StatusEvent[] };
        expect(submissionDigest(registryDomain, request)).to.equal(s.digest);
        expect(submissionDigest(registryDomain, request, hasher), "the byte-level path").to.equal(s.digest);
        expect(recoverSubmitter(registryDomain, { ...request, signature: s.signature as Hex })).to.equal(s.signer);
        expect(recoverSubmitter(registryDomain, { ...request, signature: s.signatureV01 as Hex })).to.equal(s.signer);
        expect(canonicalSignature(s.signatureV01 as Hex)).to.equal(s.signature);
      }
    });

    it("encodes and decodes the batch calldata byte for byte", () => {
      const decoded = decodeBatchData(hexToBytes(batchData));
      const { nonce, deadline, intakeBlock, signature, events } = submissions[0];
      expect(decoded[0]).to.deep.equal({ nonce, deadline, intakeBlock, signature, events });
      expect(decoded).to.have.length(submissions.length);
      expect(bytesToHex(encodeBatchData(decoded))).to.equal(batchData);
    });

    it("hashes event data in 8 KiB chunks as the spec says", () => {
      expect(eventDataHash(hasher, hexToBytes(batchData))).to.equal(vectors.submissions.batchDataHash);
      for (const { data, hash } of vectors.submissions.eventDataHashes) {
        expect(eventDataHash(hasher, hexToBytes(data))).to.equal(hash);
      }
    });

    it("binds the signature to the chain and the contract", () => {
      const s = submissions[0];
      const submission = { nonce: s.nonce as Hex, deadline: s.deadline, events: s.events as StatusEvent[], signature: s.signature as Hex };
      expect(recoverSubmitter({ ...registryDomain, chainId: 1 }, submission)).to.not.equal(s.signer);
      const otherContract = { ...registryDomain, verifyingContract: "0x" + "11".repeat(20) };
      expect(recoverSubmitter(otherContract, submission)).to.not.equal(s.signer);
    });
  });
});
