import { expect } from "chai";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { testPhone } from "../support/devices";
import hre from "hardhat";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { emptyRecord, Status, StatusTree, type StatusRecord } from "../../registry-service/src/core";
import {
  createVerifier,
  httpStatusSource,
  type StatusAnswer,
  type StatusSource,
  type VerifierOptions,
} from "../../registry-service/src/verifier";
import { statusAnswer } from "../../registry-service/src/readApi";
import { deployWithRoles } from "../support/fixtures";
import { ev, h, ScriptedPublisher } from "../support/scriptedPublisher";

const DEPTH = 20;
const alice = { credentialCommitment: h("credential of alice on alice phone"), deviceKeyHash: testPhone("alice phone").hash };

/** A source that answers from the publisher's tree as it is now (honest unless a test edits the answer). */
function sourceOf(publisher: ScriptedPublisher, name = "scripted", edit: (answer: StatusAnswer) => StatusAnswer = (a) => a): StatusSource {
  return {
    name,
    status: async (index) => edit(answerOf(publisher.tree, publisher.batch, publisher.state.record(index) ?? emptyRecord(index))),
  };
}
/** What the read API answers for `record` under `tree` (the service's and the mirror's builder). */
const answerOf = (tree: StatusTree, batch: number, record: StatusRecord, pending: StatusRecord | null = null): StatusAnswer =>
  statusAnswer(tree, record.index, record, { batch }, pending);
/** The answer with its anchored part edited, as a lying source would. */
const edited = (a: StatusAnswer, anchored: Partial<StatusAnswer["anchored"]>): StatusAnswer => ({
  ...a,
  anchored: { ...a.anchored, ...anchored },
});
const fixed = (answer: StatusAnswer): StatusSource => ({ name: "fixed", status: async () => answer });

describe("verifier SDK: fails closed with a reason a bank can switch on", function () {
  this.timeout(60_000);
  let publisher: ScriptedPublisher;
  let registry: string;
  let roles: Awaited<ReturnType<typeof deployWithRoles>>;
  const verifier = (options: Partial<VerifierOptions> = {}) =>
    createVerifier({ chain: hre.ethers.provider, registry, sources: [sourceOf(publisher)], rootCacheMs: 0, ...options });

  beforeEach(async () => {
    roles = await deployWithRoles(DEPTH);
    publisher = await ScriptedPublisher.create(roles.registry.connect(roles.publisher), DEPTH);
    registry = publisher.domain.verifyingContract;
    await publisher.anchor([await publisher.sign(roles.issuer, [ev.issue("alice", "alice phone"), ev.issue("bob", "bob phone")])]);
  });

  it("VALID for the right credential on the right device, with the chain's word on the root", async () => {
    const result = await (await verifier()).check(0, alice);
    expect(result).to.include({ valid: true, reason: "VALID", index: 0, source: "scripted" });
    expect(result.root).to.include({ batch: 1, statusRoot: publisher.tree.root, supersededAt: 0 });
  });

  it("DEVICE_MISMATCH, CREDENTIAL_MISMATCH and UNKNOWN_INDEX", async () => {
    const v = await verifier();
    expect((await v.check(0, { ...alice, deviceKeyHash: testPhone("bob phone").hash })).reason).to.equal("DEVICE_MISMATCH");
    expect((await v.check(1, alice)).reason).to.equal("CREDENTIAL_MISMATCH");
    const unknown = await v.check(7, alice); // the proof of an unused slot checks out: the slot is provably empty
    expect(unknown).to.include({ valid: false, reason: "UNKNOWN_INDEX" });
    expect(unknown.root?.batch).to.equal(1);
  });

  it("SUSPENDED after a lost-phone lock, REVOKED after a revocation", async () => {
    await publisher.anchor([
      await publisher.sign(roles.operator, [ev.lock("alice phone")]),
      await publisher.sign(roles.issuer, [ev.revoke(1)]),
    ]);
    const v = await verifier();
    expect((await v.check(0, alice)).reason).to.equal("SUSPENDED");
    expect(
      (await v.check(1, { credentialCommitment: h("credential of bob on bob phone"), deviceKeyHash: testPhone("bob phone").hash })).reason,
    ).to.equal("REVOKED");
  });

  it("PROOF_INVALID for a tampered proof or a record edited to look active", async () => {
    await publisher.anchor([await publisher.sign(roles.operator, [ev.lock("alice phone")])]);
    const tamperedProof = sourceOf(publisher, "tampered", (a) => edited(a, { proof: [h("sibling"), ...a.anchored.proof.slice(1)] }));
    const editedRecord = sourceOf(publisher, "edited", (a) =>
      edited(a, { record: { ...a.anchored.record, status: Status.Active, reason: 0 } }),
    );
    expect(await (await verifier({ sources: [tamperedProof] })).check(0, alice)).to.include({ valid: false, reason: "PROOF_INVALID" });
    expect(await (await verifier({ sources: [editedRecord] })).check(0, alice)).to.include({ valid: false, reason: "PROOF_INVALID" });
  });

  it("ROOT_NOT_ANCHORED when a source proves against a root it never anchored", async () => {
    const own = new StatusTree(publisher.hasher, DEPTH); // the service's private tree, where alice is still active
    const record = { ...publisher.state.record(0)!, batch: 9 };
    own.applyRecords([record]);
    const result = await (await verifier({ sources: [fixed(answerOf(own, 9, record))] })).check(0, alice);
    expect(result).to.include({ valid: false, reason: "ROOT_NOT_ANCHORED" });
    expect(await (await verifier()).rootInfo(own.root)).to.equal(null);
  });

  it("ROOT_TOO_OLD once the root was superseded longer ago than allowed", async () => {
    const old = answerOf(publisher.tree, 1, publisher.state.record(0)!);
    await publisher.anchor([await publisher.sign(roles.operator, [ev.lock("alice phone")])]);
    const supersededAt = Number((await publisher.registry.rootInfo(old.anchored.anchor.statusRoot)).supersededAt) * 1000;
    const at = (ms: number) => verifier({ sources: [fixed(old)], maxRootAgeSeconds: 30, now: () => supersededAt + ms });
    expect(await (await at(29_000)).check(0, alice)).to.include({ valid: true, reason: "VALID" });
    expect(await (await at(31_000)).check(0, alice)).to.include({ valid: false, reason: "ROOT_TOO_OLD" });
  });

  it("REGISTRY_PAUSED while anchoring is paused: a lock could be waiting that no anchor can carry", async () => {
    await roles.registry.connect(roles.admin).pause();
    expect(await (await verifier()).check(0, alice)).to.include({ valid: false, reason: "REGISTRY_PAUSED" });
    await roles.registry.connect(roles.admin).unpause();
    expect(await (await verifier()).check(0, alice)).to.include({ valid: true, reason: "VALID" });
  });

  it("ROOT_STALE once the current root went unconfirmed too long before the head, VALID again after a heartbeat", async () => {
    const root = publisher.tree.root;
    await time.increase(200); // anchoring stopped: nothing confirms the root, while the chain goes on
    await roles.registry.connect(roles.admin).grantRole(await roles.registry.ISSUER_ROLE(), roles.stranger.address); // a block at the new time
    const now = () => Date.now() + 200_000; // the verifier's clock agrees with the node's head
    const stale = await (await verifier({ maxStaleSeconds: 180, now })).check(0, alice);
    expect(stale).to.include({ valid: false, reason: "ROOT_STALE" });
    expect(stale.message).to.match(/last confirmed 2\d\d s before your node's head \(allowed 180 s\)/);
    await roles.registry.connect(roles.publisher).heartbeat(1, root);
    expect(await (await verifier({ maxStaleSeconds: 180, now })).check(0, alice)).to.include({ valid: true, reason: "VALID" });
  });

  it("CHAIN_STALE when the verifier's own node lags its clock", async () => {
    const head = (await hre.ethers.provider.getBlock("latest"))!.timestamp * 1000;
    const at = (lagMs: number) => verifier({ maxChainLagSeconds: 120, now: () => head + lagMs });
    expect(await (await at(119_000)).check(0, alice)).to.include({ valid: true, reason: "VALID" });
    expect(await (await at(121_000)).check(0, alice)).to.include({ valid: false, reason: "CHAIN_STALE" });
  });

  it("WRONG_CHAIN when the node answers for another chain than the pinned one (permissioned chains share default ids)", async () => {
    const chainId = (await hre.ethers.provider.getNetwork()).chainId;
    expect(await (await verifier({ chainId })).check(0, alice)).to.include({ valid: true, reason: "VALID" });
    const elsewhere = await (await verifier({ chainId: chainId + 1n })).check(0, alice);
    expect(elsewhere).to.include({ valid: false, reason: "WRONG_CHAIN" });
    expect(elsewhere.message).to.include(`answers for chain ${chainId}, not the registry's chain ${chainId + 1n}`);
  });

  it("ROOT_UNWITNESSED while fewer witnesses than required attested the root; each refusal tries the next source", async () => {
    const [witness] = (await hre.ethers.getSigners()).slice(5, 6);
    await roles.registry.connect(roles.admin).grantRole(await roles.registry.WITNESS_ROLE(), witness.address);
    const unwitnessed = await (await verifier({ minWitnesses: 1 })).check(0, alice);
    expect(unwitnessed).to.include({ valid: false, reason: "ROOT_UNWITNESSED" });
    expect(unwitnessed.attempts?.map((attempt) => attempt.reason)).to.deep.equal(["ROOT_UNWITNESSED"]);
    await roles.registry.connect(witness).attest(1, publisher.tree.root);
    expect(await (await verifier({ minWitnesses: 1 })).check(0, alice)).to.include({ valid: true, reason: "VALID" });
    expect((await (await verifier({ minWitnesses: 1 })).check(0, alice)).root).to.include({ attestations: 1 });
    const refused = await verifier({ minWitnesses: -1 }).then(
      () => undefined,
      (error: Error) => error.message,
    );
    expect(refused).to.equal("minWitnesses must be a whole number, got -1");
  });

  it("with confirmations, a root is anchored for the verifier only once its anchor is that many blocks deep", async () => {
    const deep = await verifier({ confirmations: 2 });
    expect(await deep.check(0, alice)).to.include({ valid: false, reason: "ROOT_NOT_ANCHORED" }); // a reorganisation could still drop it
    await hre.network.provider.send("evm_mine");
    expect(await deep.check(0, alice)).to.include({ valid: true, reason: "VALID" });
    expect(await (await verifier({ confirmations: 1 })).check(0, alice)).to.include({ valid: true, reason: "VALID" });
  });

  it("CHAIN_UNREACHABLE and SOURCE_UNREACHABLE: cannot confirm is never valid", async () => {
    const deadChain = await createVerifier({ chain: "http://127.0.0.1:9", registry, sources: [sourceOf(publisher)], timeoutMs: 1000 });
    expect(await deadChain.check(0, alice)).to.include({ valid: false, reason: "CHAIN_UNREACHABLE" });
    const deadSource = await verifier({ sources: [httpStatusSource("http://127.0.0.1:9", 1000)] });
    expect(await deadSource.check(0, alice)).to.include({ valid: false, reason: "SOURCE_UNREACHABLE" });
  });

  it("PENDING_LOCK by default: a lock or revocation the source accepted but has not anchored refuses (fail closed)", async () => {
    const active = publisher.state.record(0)!;
    for (const pending of [
      { ...active, status: Status.Suspended, reason: 1, batch: 2 },
      { ...active, status: Status.Revoked, reason: 2, batch: 2 },
    ]) {
      const source = fixed(answerOf(publisher.tree, 1, active, pending));
      const result = await (await verifier({ sources: [source] })).check(0, alice);
      expect(result, Status[pending.status]).to.include({ valid: false, reason: "PENDING_LOCK" });
      expect(result.record).to.deep.equal(active); // the proven record stays the anchored one
      expect(await (await verifier({ sources: [source], pendingPolicy: "deny" })).check(0, alice)).to.include({ reason: "PENDING_LOCK" });
    }
  });

  it("pendingPolicy 'ignore' judges the anchored record alone; a pending change that keeps the credential active never refuses", async () => {
    const active = publisher.state.record(0)!;
    const pendingLock = fixed(answerOf(publisher.tree, 1, active, { ...active, status: Status.Suspended, reason: 1, batch: 2 }));
    expect(await (await verifier({ sources: [pendingLock], pendingPolicy: "ignore" })).check(0, alice)).to.include({
      valid: true,
      reason: "VALID",
    });
    const pendingActive = fixed(answerOf(publisher.tree, 1, active, { ...active, batch: 2 }));
    expect(await (await verifier({ sources: [pendingActive] })).check(0, alice)).to.include({ valid: true, reason: "VALID" });
  });

  it("tries the next source when one lies or is down, and reports the most telling failure when all fail", async () => {
    const liar = sourceOf(publisher, "liar", (a) => edited(a, { proof: [h("forged"), ...a.anchored.proof.slice(1)] }));
    const down = httpStatusSource("http://127.0.0.1:9", 1000);
    const good = await (await verifier({ sources: [down, liar, sourceOf(publisher, "mirror")] })).check(0, alice);
    expect(good).to.include({ valid: true, source: "mirror" });
    const bad = await (await verifier({ sources: [down, liar] })).check(0, alice);
    expect(bad).to.include({ valid: false, reason: "PROOF_INVALID" });
    expect(bad.attempts!.map((a) => a.reason)).to.deep.equal(["SOURCE_UNREACHABLE", "PROOF_INVALID"]);
  });

  it("reads a real HTTP source strictly: a malformed answer is refused", async () => {
    const honest = answerOf(publisher.tree, 1, publisher.state.record(0)!);
    let body: unknown = honest;
    const server: Server = createServer((_request, response) => response.end(JSON.stringify(body)));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const v = await verifier({ sources: [`http://127.0.0.1:${(server.address() as AddressInfo).port}`] });
      expect(await v.check(0, alice)).to.include({ valid: true });
      body = edited(honest, { record: { ...honest.anchored.record, status: 9 as Status } });
      expect(await v.check(0, alice)).to.include({ valid: false, reason: "PROOF_INVALID" });
    } finally {
      server.close();
    }
  });

  it("accepts an answer without the optional fields (pending, transaction), as a third-party mirror may send it", async () => {
    const honest = answerOf(publisher.tree, 1, publisher.state.record(0)!);
    const { transactionHash: _transactionHash, blockNumber: _blockNumber, ...anchor } = honest.anchored.anchor;
    const sparse = { index: 0, anchored: { ...honest.anchored, anchor } };
    const result = await (await verifier({ sources: [fixed(sparse as unknown as StatusAnswer)] })).check(0, alice);
    expect(result).to.include({ valid: true, pending: null });
  });

  it("holds a custom source to the wire schema: a malformed answer is PROOF_INVALID and the next source is asked", async () => {
    const honest = answerOf(publisher.tree, 1, publisher.state.record(0)!);
    const flat = { index: 0, record: honest.anchored.record, proof: honest.anchored.proof, anchor: honest.anchored.anchor, pending: null };
    const malformed: StatusSource = { name: "flat", status: async () => flat as unknown as StatusAnswer };
    const good = await (await verifier({ sources: [malformed, sourceOf(publisher, "mirror")] })).check(0, alice);
    expect(good).to.include({ valid: true, source: "mirror" });
    const bad = await (await verifier({ sources: [malformed] })).check(0, alice);
    expect(bad).to.include({ valid: false, reason: "PROOF_INVALID" });
    expect(bad.message).to.match(/flat sent a malformed answer/);
  });

  it("binds the answer to the index asked: another index's VALID record from a custom source is refused", async () => {
    const bobs = answerOf(publisher.tree, 1, publisher.state.record(1)!); // a true, anchored answer, for index 1
    const bob = { credentialCommitment: h("credential of bob on bob phone"), deviceKeyHash: testPhone("bob phone").hash };
    const swapped: StatusSource = { name: "swapped", status: async () => bobs };
    const result = await (await verifier({ sources: [swapped] })).check(0, bob);
    expect(result).to.include({ valid: false, reason: "PROOF_INVALID" });
    expect(result.message).to.match(/answer is for index 1, asked 0/);
  });

  it("caches the chain's word: no chain call for many checks, two per check without the cache (the root, the current root's confirmation)", async () => {
    let calls = 0;
    const provider = hre.ethers.provider;
    const counting = new Proxy(provider, {
      get(target, key) {
        if (key === "call") return (...args: Parameters<typeof provider.call>) => (calls++, target.call(...args));
        const value = Reflect.get(target, key);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const countFor = async (rootCacheMs: number) => {
      const v = await createVerifier({ chain: counting, registry, sources: [sourceOf(publisher)], rootCacheMs });
      await v.check(0, alice); // the first check also reads the tree depth
      calls = 0;
      for (let i = 0; i < 5; i++) expect((await v.check(0, alice)).valid).to.equal(true);
      return calls;
    };
    expect(await countFor(60_000)).to.equal(0);
    expect(await countFor(0)).to.equal(10);
  });
});
