import { expect } from "chai";
import { createPublicKey, ECDH, verify } from "node:crypto";
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
  eventTreeRoot,
  Hasher,
  hexToBytes,
  recordLeaf,
  recoverSubmitter,
  canonicalSignature,
  credentialCommitment,
  deviceKeyHash,
  holderRef,
  lockGrantFault,
  lockGrantMessage,
  signLockGrant,
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
        const leaves = events.map((event) => hasher.leaf(encodeAppliedEvent(event)));
        expect(eventTreeRoot(hasher, Buffer.concat(leaves))).to.equal(root);
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

  describe("a phone's grant of its lock to its operator (docs/spec.md 4.6)", () => {
    const { domain, lockGrant: vector } = vectors.submissions;
    const registryDomain = { chainId: domain.chainId, verifyingContract: domain.verifyingContract };
    const lock = { deviceKeyHash: vector.deviceKeyHash as Hex, operator: vector.operator as Hex, deadline: vector.notAfter };

    it("is the spec's message signed by the device key: Node's crypto (OpenSSL) verifies it, the core accepts it and signs the same", () => {
      const uncompressed = ECDH.convertKey(vector.devicePublicKey.slice(2), "prime256v1", "hex", "hex", "uncompressed") as string;
      const b64 = (hex: string) => Buffer.from(hex, "hex").toString("base64url");
      const key = createPublicKey({
        key: { kty: "EC", crv: "P-256", x: b64(uncompressed.slice(2, 66)), y: b64(uncompressed.slice(66)) },
        format: "jwk",
      });
      const signature = Buffer.from(vector.signature.slice(2), "hex");
      expect(verify("sha256", Buffer.from(vector.message.slice(2), "hex"), { key, dsaEncoding: "ieee-p1363" }, signature)).to.equal(true);
      expect(bytesToHex(lockGrantMessage(registryDomain, vector.operator, vector.notAfter))).to.equal(vector.message);
      expect(deviceKeyHash(vector.devicePublicKey as Hex)).to.equal(vector.deviceKeyHash);
      expect(lockGrantFault(registryDomain, vector.grant as Hex, lock)).to.equal(undefined);
      expect(signLockGrant(hexToBytes(vector.devicePrivateKey), registryDomain, vector.operator, vector.notAfter)).to.equal(vector.grant);
    });

    it("does not let another operator, another device, a later deadline or another registry use it", () => {
      const other = "0x" + "22".repeat(20);
      expect(lockGrantFault(registryDomain, vector.grant as Hex, { ...lock, operator: other as Hex })).to.match(
        /granted its lock to operator/,
      );
      expect(lockGrantFault(registryDomain, vector.grant as Hex, { ...lock, deviceKeyHash: `0x${"33".repeat(32)}` })).to.match(
        /another device/,
      );
      expect(lockGrantFault(registryDomain, vector.grant as Hex, { ...lock, deadline: vector.notAfter + 1 })).to.match(/ran out/);
      const elsewhere = { ...registryDomain, verifyingContract: other };
      expect(lockGrantFault(elsewhere, vector.grant as Hex, lock)).to.match(/does not verify/);
    });
  });
});
