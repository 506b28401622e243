import { expect } from "chai";
import hre from "hardhat";
import { encodeBatchData, MAX_INTAKE_AGE_BLOCKS, type Hex } from "../../registry-service/src/core";
import { runAudit } from "../../registry-service/src/audit/audit";
import { anchorEventData } from "../../registry-service/src/chain/read";
import { REGISTRY_ABI } from "../../registry-service/src/verifier";
import { Interface } from "ethers";
import { bytesToHex, hexToBytes } from "../../registry-service/src/core";
import { deployWithRoles } from "../support/fixtures";
import { ev, h, ScriptedPublisher } from "../support/scriptedPublisher";

const DEPTH = 20;

/** An honest first batch, then whatever the test anchors: the audit must name what is wrong. */
async function setup() {
  const roles = await deployWithRoles(DEPTH);
  const publisher = await ScriptedPublisher.create(roles.registry.connect(roles.publisher), DEPTH);
  const first = await publisher.anchor([
    await publisher.sign(roles.issuer, [ev.issue("alice", "alice phone"), ev.issue("bob", "bob phone")]),
  ]);
  const audit = (options: { failFast?: boolean } = {}) => runAudit(hre.ethers.provider, publisher.domain.verifyingContract, options);
  return { ...roles, publisher, first, audit };
}

describe("audit: replaying the chain catches a lying publisher", function () {
  this.timeout(60_000);

  it("passes an honest history: issue, lost-phone lock, reinstate, re-issue superseding the old phone", async () => {
    const { publisher, issuer, operator, audit } = await setup();
    await publisher.anchor([await publisher.sign(operator, [ev.lock("alice phone")])]);
    await publisher.anchor([
      await publisher.sign(issuer, [ev.reinstate(0)]),
      await publisher.sign(issuer, [ev.reissue(0, "alice", "alice new phone")]),
    ]);
    const report = await audit();
    expect(report.divergence).to.equal(null);
    expect(report).to.include({ ok: true, batches: 3, events: 2 + 1 + 1 + 2, statusRoot: publisher.tree.root });
  });

  it("catches a batch anchored with a wrong status root by the publisher key", async () => {
    const { publisher, issuer, audit } = await setup();
    const lie = await publisher.anchor([await publisher.sign(issuer, [ev.revoke(1)])], { statusRoot: h("made-up root") });
    const { divergence, ok, batches } = await audit();
    expect(ok).to.equal(false);
    expect(batches).to.equal(1); // the last batch that replayed cleanly
    expect(divergence).to.deep.include({
      code: "STATUS_ROOT_MISMATCH",
      batch: 2,
      transactionHash: lie.transactionHash,
      expected: h("made-up root"),
      computed: lie.honest.statusRoot,
    });
  });

  it("reports every finding it can establish: a role finding does not hide a later wrong root (--fail-fast stops at the first)", async () => {
    const { publisher, stranger, issuer, audit } = await setup();
    await publisher.anchor([await publisher.sign(stranger, [ev.suspend(0)])]);
    const lie = await publisher.anchor([await publisher.sign(issuer, [ev.revoke(1)])], { statusRoot: h("made-up root") });
    const report = await audit();
    expect(report.ok).to.equal(false);
    expect(report.findings.map((f) => [f.code, f.batch])).to.deep.equal([
      ["ROLE_MISSING", 2],
      ["STATUS_ROOT_MISMATCH", 3],
    ]);
    expect(report.counts).to.deep.equal({ ROLE_MISSING: 1, STATUS_ROOT_MISMATCH: 1 });
    expect(report.findings[1]).to.deep.include({ expected: h("made-up root"), computed: lie.honest.statusRoot });
    expect(report.stoppedAt, "the wrong root leaves a state the replay cannot follow").to.equal(3);
    expect(report.divergence).to.deep.include({ code: "ROLE_MISSING", batch: 2 });

    const fast = await audit({ failFast: true });
    expect(fast.findings.map((f) => f.code)).to.deep.equal(["ROLE_MISSING"]);
    expect(fast).to.include({ stoppedAt: 2, batches: 1 });
  });

  it("catches an event signed by a key that holds no role", async () => {
    const { publisher, stranger, audit } = await setup();
    await publisher.anchor([await publisher.sign(stranger, [ev.suspend(0)])]);
    const { divergence } = await audit();
    expect(divergence).to.deep.include({ code: "ROLE_MISSING", batch: 2 });
    expect(divergence!.submission).to.deep.include({ index: 0, signer: stranger.address, event: 0 });
    expect(divergence!.message).to.contain("ISSUER_ROLE");
  });

  it("catches a telecom operator revoking (locks are all an operator may do)", async () => {
    const { publisher, operator, audit } = await setup();
    await publisher.anchor([await publisher.sign(operator, [ev.lock("bob phone"), ev.revoke(0)])]);
    const { divergence } = await audit();
    expect(divergence).to.deep.include({ code: "ROLE_MISSING", batch: 2 });
    expect(divergence!.submission).to.deep.include({ signer: operator.address, event: 1 }); // the lock itself was fine
    expect(divergence!.message).to.match(/Revoke needs the ISSUER_ROLE/);
  });

  it("checks the role at the intake block: accepted before a revocation passes, stamped after it is ROLE_MISSING", async () => {
    const { registry, admin, publisher, issuer, audit } = await setup();
    const inFlight = await publisher.sign(issuer, [ev.suspend(1)]); // accepted while the issuer held its role
    await registry.connect(admin).revokeRole(await registry.ISSUER_ROLE(), issuer.address);
    await publisher.anchor([inFlight]);
    expect((await audit()).ok, "a revocation does not undo what was accepted before its block").to.equal(true);
    const late = await publisher.sign(issuer, [ev.revoke(1)]); // its intake block is after the revocation
    await publisher.anchor([late]);
    await registry.connect(admin).grantRole(await registry.ISSUER_ROLE(), issuer.address); // granting later does not help
    const { divergence } = await audit();
    expect(divergence).to.deep.include({ code: "ROLE_MISSING", batch: 3 });
  });

  it("reports an anchor too long after its intake block, or before it, and one after the signed deadline", async () => {
    const { publisher, issuer, audit } = await setup();
    const provider = hre.ethers.provider;
    const now = (await provider.getBlock("latest"))!.timestamp;
    const stale = await publisher.sign(issuer, [ev.suspend(0)], { deadline: now + 86_400 });
    // 12 hours of blocks, taken back after the test (the next tests' chain keeps its clock)
    const snapshot = await provider.send("evm_snapshot", []);
    try {
      await provider.send("hardhat_mine", [`0x${(MAX_INTAKE_AGE_BLOCKS + 1).toString(16)}`]);
      const future = await publisher.sign(issuer, [ev.suspend(1)], { intakeBlock: (await provider.getBlockNumber()) + 100 });
      const expired = await publisher.sign(issuer, [ev.reinstate(0, 3)], { deadline: now - 1 });
      const lie = await publisher.anchor([stale, future, expired]);
      const report = await audit();
      expect(report.ok).to.equal(false);
      expect(report.counts).to.deep.equal({ INTAKE_BLOCK_OUT_OF_RANGE: 2, DEADLINE_PASSED: 1 });
      const [tooOld, tooNew, late] = report.findings;
      expect(tooOld).to.deep.include({ code: "INTAKE_BLOCK_OUT_OF_RANGE", batch: 2, transactionHash: lie.transactionHash });
      expect(tooOld.submission).to.include({ index: 0 });
      expect(tooNew.submission).to.include({ index: 1 });
      expect(late).to.deep.include({ code: "DEADLINE_PASSED", expected: `<= ${now - 1}` });
      expect(late.submission).to.include({ index: 2 });
      expect(report.statusRoot, "the state still follows the chain: these are timing findings").to.equal(publisher.tree.root);
    } finally {
      await provider.send("evm_revert", [snapshot]);
    }
  });

  it("catches calldata events that do not match the anchored event root", async () => {
    const { publisher, issuer, audit } = await setup();
    const shown = await publisher.sign(issuer, [ev.suspend(1)]);
    const swapped = await publisher.sign(issuer, [ev.revoke(1)]); // what the calldata will carry instead
    const lie = await publisher.anchor([shown], { eventData: encodeBatchData([swapped]) });
    const { divergence } = await audit();
    expect(divergence).to.deep.include({ code: "EVENT_ROOT_MISMATCH", batch: 2, expected: lie.eventRoot });
  });

  it("catches a transition the state machine refuses (reinstating an active credential)", async () => {
    const { publisher, issuer, audit } = await setup();
    const state = publisher.state;
    const refused = await publisher.sign(issuer, [ev.reinstate(0)]);
    // the scripted publisher's own state machine would refuse too: anchor it with forged roots
    const lie = await publisher.registry.anchor(
      2,
      publisher.tree.root,
      h("forged"),
      h("forged events"),
      1,
      encodeBatchData([refused]) as unknown as Hex,
    );
    await lie.wait();
    expect(state.record(0)!.status).to.equal(1);
    const { divergence } = await audit();
    expect(divergence).to.deep.include({ code: "INVALID_TRANSITION", batch: 2 });
    expect(divergence!.message).to.contain("NOT_SUSPENDED");
  });

  it("catches a signature that is not one", async () => {
    const { publisher, issuer, audit } = await setup();
    const signed = await publisher.sign(issuer, [ev.suspend(1)]);
    const broken = { ...signed, signature: `0x${"00".repeat(64)}1b` as Hex };
    const lie = await publisher.registry.anchor(2, publisher.tree.root, h("x"), h("y"), 1, encodeBatchData([broken]));
    await lie.wait();
    const { divergence } = await audit();
    expect(divergence).to.deep.include({ code: "BAD_SIGNATURE", batch: 2 });
  });

  it("slices eventData out of anchor calldata exactly as the ABI decoder does, and refuses anything else", () => {
    const abi = new Interface(REGISTRY_ABI);
    for (const length of [0, 1, 31, 32, 33, 1000]) {
      const eventData = Uint8Array.from({ length }, (_, i) => (i * 7 + 1) % 256);
      const calldata = hexToBytes(abi.encodeFunctionData("anchor", [3, h("p"), h("s"), h("e"), 9, eventData]));
      expect(bytesToHex(anchorEventData(calldata)!)).to.equal(abi.decodeFunctionData("anchor", calldata).eventData);
    }
    const valid = hexToBytes(abi.encodeFunctionData("anchor", [3, h("p"), h("s"), h("e"), 9, "0x1234"]));
    expect(anchorEventData(valid.subarray(0, 4 + 6 * 32 + 32 + 1))).to.equal(undefined); // cut inside the 2 data bytes
    const otherCall = hexToBytes(abi.encodeFunctionData("batchInfo", [1]));
    expect(anchorEventData(otherCall)).to.equal(undefined);
    const hugeOffset = Uint8Array.from(valid);
    hugeOffset[4 + 5 * 32] = 1; // an offset beyond 2^48
    expect(anchorEventData(hugeOffset)).to.equal(undefined);
  });
});
