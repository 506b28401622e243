import { expect } from "chai";
import { UNCHECKED_GRANT } from "../support/devices";
import fc from "fast-check";
import { HDNodeWallet, id } from "ethers";
import {
  blankEvent,
  bytesToHex,
  canonicalSignature,
  Channel,
  CoreError,
  decodeAppliedEvent,
  decodeBatchData,
  decodeRecord,
  encodeBatchData,
  encodeRecord,
  EventKind,
  EventTree,
  eventTreeRoot,
  Hasher,
  hexToBytes,
  Reason,
  recoverSubmitter,
  signSubmission,
  Status,
  submissionDigest,
  SUBMISSION_HEADER_LENGTH,
  verifyEventReceipt,
  type AppliedEvent,
  type Hex,
  type StatusEvent,
  type SubmissionRequest,
  type StatusRecord,
  type Submission,
} from "../../registry-service/src/core";
import { nativePublicKeyRecovery as native } from "../../registry-service/src/accel";
import { refEventProof, refEventRoot } from "../reference/reference";
import { vectors } from "../support/vectors";

const record: StatusRecord = vectors.statusTree.encodings[1].record as StatusRecord;
const recordBytes = hexToBytes(vectors.statusTree.encodings[1].bytes);
const withByte = (bytes: Uint8Array, at: number, value: number) => {
  const copy = bytes.slice();
  copy[at] = value;
  return copy;
};
const expectCode = (fn: () => unknown, code: string) => expect(fn).to.throw(CoreError).with.property("code", code);

describe("strict encodings", () => {
  it("round-trips records", () => {
    expect(decodeRecord(encodeRecord(record))).to.deep.equal(record);
  });

  for (const { title, bytes } of [
    { title: "one byte short", bytes: recordBytes.subarray(1) },
    { title: "one byte long", bytes: new Uint8Array([...recordBytes, 0]) },
    { title: "status byte 0 (NONE has no encoding)", bytes: withByte(recordBytes, 72, 0) },
    { title: "status byte 4", bytes: withByte(recordBytes, 72, 4) },
    { title: "reason byte 6", bytes: withByte(recordBytes, 73, 6) },
  ]) {
    it(`rejects a record ${title} as MALFORMED_BYTES`, () => expectCode(() => decodeRecord(bytes), "MALFORMED_BYTES"));
  }

  for (const { title, change } of [
    { title: "a negative index", change: { index: -1 } },
    { title: "a fractional batch", change: { batch: 1.5 } },
    { title: "a short commitment", change: { credentialCommitment: "0x1234" as Hex } },
    { title: "a commitment that is not hex", change: { credentialCommitment: `0x${"zz".repeat(32)}` as Hex } },
    { title: "status NONE (unused slots have no bytes)", change: { status: Status.None } },
    { title: "an unknown reason", change: { reason: 9 as Reason } },
  ]) {
    it(`refuses to encode a record with ${title}`, () => {
      expect(() => encodeRecord({ ...record, ...change })).to.throw(CoreError);
    });
  }

  describe("batch data", () => {
    const data = hexToBytes(vectors.submissions.batchData);
    for (const { title, bytes } of [
      { title: "an unknown format version (3, when issuances carried a holder handle)", bytes: withByte(data, 0, 3) },
      { title: "a truncated last event", bytes: data.subarray(0, data.length - 1) },
      { title: "trailing bytes", bytes: new Uint8Array([...data, 0]) },
      { title: "an unknown event kind", bytes: withByte(data, 5 + SUBMISSION_HEADER_LENGTH, 9) },
      { title: "an issuance with channel 0", bytes: withByte(data, 5 + SUBMISSION_HEADER_LENGTH + 65, 0) },
      { title: "more submissions than present", bytes: withByte(data, 4, 3) },
    ]) {
      it(`rejects ${title} as MALFORMED_BYTES`, () => expectCode(() => decodeBatchData(bytes), "MALFORMED_BYTES"));
    }

    it("round-trips random well-formed submissions", () => {
      const hex32 = fc
        .uint8Array({ minLength: 32, maxLength: 32 })
        .map((b) => (b.some((x) => x) ? b : new Uint8Array(32).fill(1)))
        .map(bytesToHex);
      const event: fc.Arbitrary<StatusEvent> = fc.oneof(
        fc
          .record({
            k: fc.constantFrom(EventKind.Issue, EventKind.Reissue),
            i: fc.nat(2 ** 40),
            c: hex32,
            d: hex32,
            ch: fc.constantFrom(1, 2, 3),
          })
          .map(({ k, i, c, d, ch }) => ({
            ...blankEvent(k),
            index: k === EventKind.Reissue ? i : 0,
            credentialCommitment: c,
            deviceKeyHash: d,
            channel: ch as Channel,
          })),
        fc
          .record({ i: fc.nat(2 ** 40), r: fc.constantFrom(1, 3, 4, 5) })
          .map(({ i, r }) => ({ ...blankEvent(EventKind.Suspend), index: i, reason: r as Reason })),
        fc.nat(2 ** 40).map((i) => ({ ...blankEvent(EventKind.Reinstate), index: i, reason: Reason.KeyCompromise })),
        fc
          .record({ i: fc.nat(2 ** 40), r: fc.constantFrom(1, 3, 4, 5) })
          .map(({ i, r }) => ({ ...blankEvent(EventKind.Revoke), index: i, reason: r as Reason })),
        hex32.map((d) => ({ ...blankEvent(EventKind.LockDevice), deviceKeyHash: d, grant: UNCHECKED_GRANT })),
      );
      const submission = fc.record({
        nonce: hex32,
        deadline: fc.nat(2 ** 40),
        intakeBlock: fc.nat(2 ** 48),
        signature: fc.uint8Array({ minLength: 65, maxLength: 65 }).map(bytesToHex),
        events: fc.array(event, { minLength: 1, maxLength: 8 }),
      });
      fc.assert(
        fc.property(fc.array(submission, { minLength: 1, maxLength: 4 }), (submissions) => {
          expect(decodeBatchData(encodeBatchData(submissions))).to.deep.equal(submissions);
        }),
      );
    });
  });

  it("rejects an applied event with an unknown kind", () => {
    const bytes = hexToBytes(vectors.eventTree.applied[0].bytes);
    expectCode(() => decodeAppliedEvent(withByte(bytes, 4, 7)), "MALFORMED_BYTES");
  });
});

describe("event tree", () => {
  let hasher: Hasher;
  before(async () => {
    hasher = await Hasher.create();
  });

  it("matches the reference root and receipts for random batch sizes, and every receipt verifies", () => {
    const base = vectors.eventTree.applied[0].event as AppliedEvent;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), (size) => {
        const events = Array.from({ length: size }, (_, position) => ({ ...base, position }));
        const tree = new EventTree(hasher, events);
        const leaves = events.map((_, p) => tree.receipt(p).leaf);
        expect(tree.root).to.equal(refEventRoot(leaves));
        expect(eventTreeRoot(hasher, Buffer.concat(leaves.map((leaf) => hexToBytes(leaf)))), "the root from leaves alone").to.equal(
          tree.root,
        );
        for (const position of [0, Math.floor(size / 2), size - 1]) {
          const receipt = tree.receipt(position);
          expect(receipt.proof).to.deep.equal(refEventProof(leaves, position));
          expect(verifyEventReceipt(hasher, events[position], receipt)).to.equal(true);
          // another event does not verify with this receipt (positions make every leaf distinct)
          if (size > 1) expect(verifyEventReceipt(hasher, events[(position + 1) % size], receipt)).to.equal(false);
          if (size > 1) {
            // the leaf's parent with the rest of the proof folds to the root, but it is no event's leaf
            const [sibling, ...rest] = receipt.proof.map((step) => hexToBytes(step));
            const leaf = hexToBytes(receipt.leaf);
            const parent = bytesToHex(hasher.hash(Buffer.concat(Buffer.compare(leaf, sibling) <= 0 ? [leaf, sibling] : [sibling, leaf])));
            const inner = { leaf: parent, proof: rest.map(bytesToHex), root: receipt.root };
            expect(verifyEventReceipt(hasher, events[position], inner), "an inner node is not a leaf").to.equal(false);
          }
        }
      }),
      { numRuns: 40 },
    );
  });

  it("refuses an empty batch and out-of-order positions", () => {
    expectCode(() => new EventTree(hasher, []), "EMPTY_EVENT_TREE");
    const base = vectors.eventTree.applied[0].event as AppliedEvent;
    expectCode(() => new EventTree(hasher, [{ ...base, position: 1 }]), "INVALID_FIELD");
  });
});

const domain31337 = () => ({
  chainId: vectors.submissions.domain.chainId,
  verifyingContract: vectors.submissions.domain.verifyingContract,
});

describe("EIP-712 submissions", () => {
  const domain = { chainId: 31337, verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3" };
  const wallet = HDNodeWallet.fromPhrase("test test test test test test test test test test test junk", undefined, "m/44'/60'/0'/0/2");
  const events = (): StatusEvent[] => [{ ...blankEvent(EventKind.LockDevice), deviceKeyHash: id("phone") as Hex, grant: UNCHECKED_GRANT }];
  const request = (nonce: string): SubmissionRequest => ({ nonce: id(nonce) as Hex, deadline: 2_000_000_000, events: events() });

  it("signs once over all events and recovers the signer", async () => {
    const submission = await signSubmission(wallet, domain, request("n"));
    expect(recoverSubmitter(domain, submission)).to.equal(wallet.address.toLowerCase());
  });

  it("recovers someone else once an event, the nonce or the deadline is changed", async () => {
    const submission = await signSubmission(wallet, domain, request("n"));
    const changed = { ...submission, events: [{ ...submission.events[0], deviceKeyHash: id("other phone") as Hex }] };
    expect(recoverSubmitter(domain, changed)).to.not.equal(wallet.address.toLowerCase());
    expect(recoverSubmitter(domain, { ...submission, nonce: id("m") as Hex })).to.not.equal(wallet.address.toLowerCase());
    expect(recoverSubmitter(domain, { ...submission, deadline: submission.deadline + 1 })).to.not.equal(wallet.address.toLowerCase());
  });

  it("computes the same digest word by word as ethers' generic encoder, for the vectors and random events", async () => {
    const hasher = await Hasher.create();
    for (const s of vectors.submissions.submissions) {
      expect(submissionDigest(domain31337(), s as SubmissionRequest, hasher)).to.equal(s.digest);
    }
    const hex32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(bytesToHex);
    const anyEvent = fc.record({
      kind: fc.integer({ min: 1, max: 6 }),
      index: fc.nat(2 ** 52),
      credentialCommitment: hex32,
      deviceKeyHash: hex32,
      channel: fc.nat(3),
      reason: fc.nat(5),
    }) as fc.Arbitrary<StatusEvent>;
    fc.assert(
      fc.property(hex32, fc.nat(2 ** 52), fc.array(anyEvent, { minLength: 1, maxLength: 5 }), (nonce, deadline, events) => {
        expect(submissionDigest(domain, { nonce, deadline, events }, hasher)).to.equal(
          submissionDigest(domain, { nonce, deadline, events }),
        );
      }),
      { numRuns: 50 },
    );
  });

  it("recovers the same signer natively (a Hasher and libsecp256k1) as ethers does, and refuses what ethers refuses", async () => {
    const hasher = await Hasher.create();
    for (const s of vectors.submissions.submissions) {
      const submission = { nonce: s.nonce, deadline: s.deadline, events: s.events, signature: s.signature } as Submission;
      expect(recoverSubmitter(domain31337(), submission, hasher, native)).to.equal(s.signer);
    }
    const signed = await signSubmission(wallet, domain, request("n"));
    expect(recoverSubmitter(domain, signed, hasher, native)).to.equal(recoverSubmitter(domain, signed));
    expect(recoverSubmitter(domain, signed, hasher)).to.equal(recoverSubmitter(domain, signed));
    const tampered = { ...signed, nonce: id("m") as Hex };
    expect(recoverSubmitter(domain, tampered, hasher, native)).to.equal(recoverSubmitter(domain, tampered));
  });

  it("refuses the malleable twin of a signature (s flipped to n - s, v to the other parity), which would recover the same signer", async () => {
    const hasher = await Hasher.create();
    const signed = await signSubmission(wallet, domain, request("n"));
    const bytes = hexToBytes(signed.signature);
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const highS = (n - BigInt(bytesToHex(bytes.subarray(32, 64)))).toString(16).padStart(64, "0");
    const twinV = bytes[64] === 27 ? "1c" : "1b";
    const twin = { ...signed, signature: `${bytesToHex(bytes.subarray(0, 32))}${highS}${twinV}` as Hex };
    // the twin is a valid ECDSA signature by the same key (libsecp256k1 recovers it): only the low-s rule (EIP-2) refuses it
    const digest = hexToBytes(submissionDigest(domain, signed));
    const twinBytes = hexToBytes(twin.signature);
    expect(bytesToHex(native(twinBytes.subarray(0, 64), twinBytes[64] - 27, digest))).to.equal(
      bytesToHex(native(bytes.subarray(0, 64), bytes[64] - 27, digest)),
    );
    expectCode(() => recoverSubmitter(domain, twin, hasher, native), "INVALID_SIGNATURE");
    expectCode(() => recoverSubmitter(domain, twin), "INVALID_SIGNATURE");
  });

  it("accepts v as 0/1 or 27/28 for the same signer, and writes it as 27/28 (canonicalSignature)", async () => {
    const hasher = await Hasher.create();
    const signed = await signSubmission(wallet, domain, request("n"));
    expect(signed.signature.slice(-2)).to.be.oneOf(["1b", "1c"]);
    const zeroOne = { ...signed, signature: `${signed.signature.slice(0, -2)}${signed.signature.endsWith("1b") ? "00" : "01"}` as Hex };
    expect(recoverSubmitter(domain, zeroOne, hasher, native)).to.equal(wallet.address.toLowerCase());
    expect(canonicalSignature(zeroOne.signature)).to.equal(signed.signature);
    expect(canonicalSignature(signed.signature)).to.equal(signed.signature);
  });

  it("refuses to sign a malformed event, and rejects a signature that is not one", async () => {
    const bad = { ...blankEvent(EventKind.Revoke), index: 1, reason: Reason.Superseded };
    let error: unknown;
    await signSubmission(wallet, domain, { ...request("n"), events: [bad] }).catch((e) => (error = e));
    expect(error).to.be.instanceOf(CoreError);
    const submission = { ...request("n"), signature: `0x${"00".repeat(65)}` as Hex };
    expectCode(() => recoverSubmitter(domain, submission), "INVALID_SIGNATURE");
  });
});
