import { expect } from "chai";
import { Wallet } from "ethers";
import { MerkleTree } from "merkletreejs";
import {
  ALL_ROLES,
  applySubmission,
  blankEvent,
  decodeBatchData,
  encodeBatchData,
  eventDataHash,
  EventKind,
  EventTree,
  eventTreeRoot,
  Hasher,
  lockGrantMessage,
  MemoryState,
  nobleP256Verify,
  positionedEvents,
  recoverSubmitter,
  StatusTree,
  submissionDigest,
  type AcceptedSubmission,
  type Hex,
  type Roles,
  type StatusEvent,
} from "../../registry-service/src/core";
import { nativeP256Verify, nativePublicKeyRecovery } from "../../registry-service/src/accel";
import { IssuanceSigners, scanBatchData } from "../../registry-service/src/audit/encodedBatch";
import { Replayer } from "../../registry-service/src/audit/replay";
import type { AnchoredBatch } from "../../registry-service/src/chain/read";
import { h, ev } from "../support/scriptedPublisher";
import { testPhone } from "../support/devices";
import { rng } from "../../bench/support";

const domain = { chainId: 31337n, verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3" };
const [issuer, operator, stranger] = [1, 2, 3].map((n) => new Wallet(h(`byte replay key ${n}`)));
const ROLES = new Map<string, Roles>([
  [issuer.address.toLowerCase(), { issuer: true, operator: false }],
  [operator.address.toLowerCase(), { issuer: false, operator: true }],
]);
const rolesAfter = (signer: Hex) => ROLES.get(signer) ?? { issuer: false, operator: false };
const N = 0xffffffffffffffffffffffffffffffffbaaedce6af48a03bbfd25e8cd0364141n;

let nonces = 0;
/** A submission signed by `wallet` (its events granted to it when they are locks); `tamper` may rewrite the signature. */
function signed(wallet: Wallet, events: StatusEvent[], hasher: Hasher, tamper?: (signature: Hex) => Hex): AcceptedSubmission {
  const granted = events.map((event) =>
    event.kind === EventKind.LockDevice && (event.grant as string) === "" ? { ...event, grant: grantFor(event, wallet) } : event,
  );
  const request = { nonce: h(`byte replay nonce ${nonces++}`), deadline: 4_000_000_000, events: granted };
  const signature = wallet.signingKey.sign(submissionDigest(domain, request, hasher)).serialized as Hex;
  return { ...request, signature: tamper ? tamper(signature) : signature, intakeBlock: 1 };
}

const phones = new Map<string, ReturnType<typeof testPhone>>();
function phone(label: string) {
  const made = testPhone(`byte replay ${label}`);
  phones.set(made.hash, made);
  return made;
}
function grantFor(event: StatusEvent, wallet: Wallet): Hex {
  return phones.get(event.deviceKeyHash)!.grant(domain, wallet.address);
}
const issue = (label: string): StatusEvent => ({ ...ev.issue(label, label), deviceKeyHash: phone(label).hash });
const lock = (label: string): StatusEvent => ({ ...blankEvent(EventKind.LockDevice), deviceKeyHash: phone(label).hash, grant: "" as Hex });

/** The high-s twin of a signature (refused by recoverSubmitter, EIP-2). */
const highS = (signature: Hex): Hex => {
  const s = N - BigInt(`0x${signature.slice(66, 130)}`);
  const v = signature.slice(130) === "1b" ? "1c" : "1b";
  return `${signature.slice(0, 66)}${s.toString(16).padStart(64, "0")}${v}` as Hex;
};

/**
 * Anchors for a history of batches, their roots those an honest publisher that applies everything
 * as anchored (with every role) computes; a batch it cannot apply keeps placeholder roots (the replay stops there).
 */
function anchorsOf(hasher: Hasher, depth: number, batches: AcceptedSubmission[][]): AnchoredBatch[] {
  const state = new MemoryState();
  const tree = new StatusTree(hasher, depth);
  return batches.map((submissions, i) => {
    const previousRoot = tree.root;
    let roots = { statusRoot: h("unknown"), eventRoot: h("unknown"), eventCount: 1 };
    try {
      const outcomes = submissions.map((submission) => {
        const signer = recoverSubmitter(domain, submission, hasher);
        const outcome = applySubmission(state, { signer, roles: ALL_ROLES, batch: i + 1, slots: 2 ** depth }, submission);
        state.commit(outcome.changes);
        return outcome;
      });
      const applied = positionedEvents(outcomes);
      roots = {
        statusRoot: tree.applyRecords(applied.map((event) => event.record)),
        eventRoot: new EventTree(hasher, applied).root,
        eventCount: applied.length,
      };
    } catch {
      // a refused submission: the replay must stop at it, whatever the roots say
    }
    const eventData = encodeBatchData(submissions);
    return {
      batch: i + 1,
      previousRoot,
      ...roots,
      eventDataHash: eventDataHash(hasher, eventData),
      transactionHash: h(`tx ${i}`),
      blockNumber: 10 + i,
      transactionIndex: 0,
      timestamp: 1_000,
      eventData,
    };
  });
}

/** Everything a replay leaves: how it ended, its findings, state and the last batch's contents. */
function replayed(hasher: Hasher, depth: number, anchors: AnchoredBatch[], options: { keepGoing: boolean; stateMachineOnly: boolean }) {
  const replayer = Replayer.create(hasher, depth, domain, rolesAfter, options);
  let stopped: unknown = null;
  try {
    for (const anchor of anchors) replayer.apply(anchor);
  } catch (error) {
    stopped = (error as { toJSON?: () => unknown }).toJSON?.() ?? String(error);
  }
  const contents = replayer.contents;
  return {
    stopped,
    findings: replayer.findings.map((finding) => finding.toJSON()),
    root: replayer.tree.root,
    events: replayer.events,
    batch: replayer.batch,
    statuses: Array.from({ length: replayer.size }, (_, index) => [replayer.status(index), replayer.record(index)]),
    contents: contents && {
      submissions: contents.submissions,
      signers: contents.signers,
      applied: contents.applied,
      eventRoot: contents.eventTree.root,
    },
  };
}

describe("audit: the byte path replays exactly as the state machine does", function () {
  let hasher: Hasher;
  before(async () => {
    hasher = await Hasher.create();
  });

  const histories: { title: string; depth?: number; batches: () => AcceptedSubmission[][] }[] = [
    {
      title: "an honest history: bulk issuance, locks, a re-issue, a revocation and a device issued again after it",
      batches: () => [
        [signed(issuer, ["a", "b", "c", "d"].map(issue), hasher)],
        [signed(operator, [lock("a"), lock("b")], hasher), signed(issuer, [ev.reinstate(0), ev.revoke(2), issue("e")], hasher)],
        [
          signed(issuer, [{ ...ev.reissue(1, "b", "b2"), deviceKeyHash: phone("b2").hash }], hasher),
          signed(issuer, [issue("c"), issue("f")], hasher),
        ],
      ],
    },
    {
      title: "an issuance to a device with a live credential",
      batches: () => [[signed(issuer, [issue("g")], hasher)], [signed(issuer, [issue("h"), issue("g")], hasher)]],
    },
    { title: "one device twice in one submission", batches: () => [[signed(issuer, [issue("i"), issue("j"), issue("i")], hasher)]] },
    {
      title: "issuances signed without the issuer's role",
      batches: () => [[signed(stranger, [issue("m"), issue("n")], hasher)], [signed(issuer, [issue("o")], hasher)]],
    },
    { title: "issuances by an operator", batches: () => [[signed(operator, [issue("p")], hasher)]] },
    {
      title: "more issuances than the registry has slots",
      depth: 2,
      batches: () => [[signed(issuer, ["q", "r", "s"].map(issue), hasher)], [signed(issuer, ["t", "u"].map(issue), hasher)]],
    },
    { title: "a high-s signature", batches: () => [[signed(issuer, [issue("v")], hasher, highS)]] },
    {
      title: "a signature with v 0",
      batches: () => [[signed(issuer, [issue("w")], hasher, (signature) => `${signature.slice(0, 130)}00` as Hex)]],
    },
    {
      title: "a signature that recovers nobody",
      batches: () => [[signed(issuer, [issue("x")], hasher, () => `0x${"00".repeat(64)}1b` as Hex)]],
    },
  ];

  for (const { title, depth = 8, batches } of histories)
    for (const keepGoing of [false, true])
      it(`${title}${keepGoing ? " (keep going)" : ""}`, () => {
        const anchors = anchorsOf(hasher, depth, batches());
        const reference = replayed(hasher, depth, anchors, { keepGoing, stateMachineOnly: true });
        expect(replayed(hasher, depth, anchors, { keepGoing, stateMachineOnly: false })).to.deep.equal(reference);
      });

  it("the honest history replays cleanly through both paths (the references above are not all failures)", () => {
    const anchors = anchorsOf(hasher, 8, histories[0].batches());
    const result = replayed(hasher, 8, anchors, { keepGoing: false, stateMachineOnly: false });
    expect(result.stopped).to.equal(null);
    expect(result.events).to.equal(anchors.reduce((sum, anchor) => sum + anchor.eventCount, 0));
  });

  it("a nonce used twice by one signer is refused on the byte path too", () => {
    const first = signed(issuer, [issue("y")], hasher);
    const again = { ...signed(issuer, [issue("z")], hasher), nonce: first.nonce };
    const resigned = { ...again, signature: issuer.signingKey.sign(submissionDigest(domain, again, hasher)).serialized as Hex };
    const anchors = anchorsOf(hasher, 8, [[first], [resigned]]);
    const result = replayed(hasher, 8, anchors, { keepGoing: false, stateMachineOnly: false });
    expect(result).to.deep.equal(replayed(hasher, 8, anchors, { keepGoing: false, stateMachineOnly: true }));
    expect((result.stopped as { message: string }).message).to.contain("DUPLICATE_NONCE");
  });
});

describe("audit: event data read in place", function () {
  let hasher: Hasher;
  before(async () => {
    hasher = await Hasher.create();
  });

  it("computes each issuances-only submission's digest and signer as the core does", () => {
    const signers = new IssuanceSigners(domain, hasher, nativePublicKeyRecovery);
    for (const count of [1, 2, 7, 300]) {
      const submission = signed(
        issuer,
        Array.from({ length: count }, (_, i) => issue(`digest ${count} ${i}`)),
        hasher,
      );
      const [encoded] = scanBatchData(encodeBatchData([submission]));
      expect(encoded.issuesOnly).to.equal(true);
      expect(Buffer.from(signers.digest(encoded)).toString("hex")).to.equal(submissionDigest(domain, submission, hasher).slice(2));
      expect(signers.signer(encoded)?.hex).to.equal(recoverSubmitter(domain, submission));
    }
  });

  it("refuses exactly what decodeBatchData refuses, with its message, on every truncation and on random corruptions", () => {
    // a copy: a Buffer's slice() below would be a view on it
    const data = new Uint8Array(
      encodeBatchData([
        signed(issuer, ["c1", "c2", "c3"].map(issue), hasher),
        signed(operator, [lock("c1")], hasher),
        signed(issuer, [ev.suspend(0), issue("c4")], hasher),
      ]),
    );
    const outcome = (read: (bytes: Uint8Array) => unknown, bytes: Uint8Array) => {
      try {
        read(bytes);
        return "ok";
      } catch (error) {
        return (error as Error).message;
      }
    };
    const cases = Array.from({ length: data.length }, (_, length) => data.slice(0, length));
    const random = rng(7);
    for (let i = 0; i < 400; i++) {
      const corrupt = data.slice();
      corrupt[Math.floor(random() * data.length)] = [0, 1, 0xff, 7, 3, 5][Math.floor(random() * 6)];
      cases.push(corrupt);
    }
    for (const bytes of cases) expect(outcome(scanBatchData, bytes)).to.equal(outcome(decodeBatchData, bytes));
    const scanned = scanBatchData(data);
    expect(scanned.map((submission) => submission.issuesOnly)).to.deep.equal([true, false, false]);
    expect(scanned.map((submission) => submission.submission())).to.deep.equal(decodeBatchData(data));
  });

  it("gives EventTree's root for every size, from one leaf to odd and even levels", () => {
    const random = rng(11);
    for (const size of [1, 2, 3, 4, 5, 7, 8, 9, 31, 33, 100]) {
      const leaves = Uint8Array.from({ length: size * 32 }, () => Math.floor(random() * 256));
      const each = Array.from({ length: size }, (_, position) => leaves.subarray(position * 32, position * 32 + 32));
      expect(eventTreeRoot(hasher, leaves), `size ${size}`).to.equal(merkleRoot(hasher, each));
    }
  });

  it("checks a grant's P-256 signature as noble does", () => {
    const device = testPhone("p256 check");
    const grant = device.grant(domain, operator.address);
    const bytes = Buffer.from(grant.slice(2), "hex");
    const [publicKey, signature] = [bytes.subarray(0, 33), bytes.subarray(61, 125)];
    const message = lockGrantMessage(domain, operator.address, 4_000_000_000);
    const flipped = Buffer.from(signature);
    flipped[10] ^= 1;
    const offCurve = Buffer.from(publicKey);
    offCurve[5] ^= 1;
    const wrongPrefix = Buffer.from(publicKey);
    wrongPrefix[0] = 4;
    for (const [key, sig] of [
      [publicKey, signature],
      [publicKey, flipped],
      [offCurve, signature],
      [wrongPrefix, signature],
      [publicKey, new Uint8Array(64)],
    ])
      expect(nativeP256Verify(sig, message, key)).to.equal(nobleP256Verify(sig, message, key));
    expect(nativeP256Verify(signature, message, publicKey)).to.equal(true);
  });
});

/** merkletreejs' sorted-pair tree as EventTree builds it, over given leaves. */
function merkleRoot(hasher: Hasher, leaves: Uint8Array[]): Hex {
  const tree = new MerkleTree(
    leaves.map((leaf) => Buffer.from(leaf)),
    (data: Buffer) => Buffer.from(hasher.hash(data)),
    { sortPairs: true },
  );
  return `0x${tree.getRoot().toString("hex")}`;
}
