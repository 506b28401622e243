import { expect } from "chai";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import hre from "hardhat";
import { id } from "ethers";
import { blankEvent, Channel, deadlineIn, EventKind, recoverSubmitter, signSubmission, type Hex } from "../../registry-service/src/core";
import { AnchorError, readTreeSnapshot, writeTreeSnapshot } from "../../registry-service/src/anchoring";
import { ChainError } from "../../registry-service/src/chain/read";
import { EthersAnchorChain, type AnchorChain } from "../../registry-service/src/chain/write";
import { IntakeError } from "../../registry-service/src/intake";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { tempRegistry } from "../support/tempRegistry";
import { deployWithRoles } from "../support/fixtures";

const DEPTH = 20;
const h = (label: string) => id(label) as Hex;

/** A chain whose anchor() dies before or after sending, as a killed process would. */
function crashing(real: AnchorChain, when: "before sending" | "after mining"): AnchorChain {
  return {
    latestBatch: () => real.latestBatch(),
    batchRoot: (batch) => real.batchRoot(batch),
    findAnchor: (batch) => real.findAnchor(batch),
    approvedCorrection: () => real.approvedCorrection(),
    heartbeat: (batch, root) => real.heartbeat(batch, root),
    anchor: async (record) => {
      if (when === "after mining") await real.anchor(record);
      throw new Error(`simulated crash ${when}`);
    },
  };
}

describe("Anchorer: crash at any point, restart, end equal to the chain", () => {
  let temp: Awaited<ReturnType<typeof tempRegistry>>;
  afterEach(() => temp.remove());

  /** A registry on a fresh chain, opened first with `first` (the chain itself unless a test wants a crashing one). */
  async function setup(first?: (chain: AnchorChain) => AnchorChain) {
    const f = await deployWithRoles(DEPTH);
    const chain = new EthersAnchorChain(f.registry.connect(f.publisher));
    temp = await tempRegistry(first ? first(chain) : chain, { depth: DEPTH });
    const domain = { chainId: (await hre.ethers.provider.getNetwork()).chainId, verifyingContract: await f.registry.getAddress() };
    const issueOne = async (n: number) => {
      const events = [
        {
          ...blankEvent(EventKind.Issue),
          credentialCommitment: h(`c ${n}`),
          deviceKeyHash: h(`device ${n}`),
          channel: Channel.ChipCard,
        },
      ];
      const submission = await signSubmission(f.issuer, domain, { nonce: h(`nonce ${n}`), deadline: deadlineIn(3600), events });
      const check = { roles: { issuer: true, operator: false }, block: await hre.ethers.provider.getBlockNumber() };
      await temp.parts.intake.accept(recoverSubmitter(domain, submission), check, submission);
    };
    const restart = async (withChain: AnchorChain = chain) => temp.reopen(withChain);
    const anchorLogs = async () => (await f.registry.queryFilter(f.registry.filters.BatchAnchored())).length;
    return { ...f, chain, issueOne, restart, anchorLogs };
  }

  it("sends a recorded batch after a crash before its transaction, with the same content", async () => {
    const { issueOne, restart, registry, anchorLogs } = await setup((chain) => crashing(chain, "before sending"));
    await issueOne(1);
    await temp.parts.anchorer.step().then(
      () => expect.fail("should have crashed"),
      (e: Error) => expect(e.message).to.match(/before sending/),
    );
    const recorded = (await temp.parts.journal.batch(1))!;
    expect(recorded.state).to.equal("prepared");
    expect(await anchorLogs()).to.equal(0);

    const { anchorer, view } = await restart();
    expect(view.tree.root, "proofs are served against the anchored root meanwhile").to.equal(recorded.previousRoot);
    const settled = (await anchorer.step())!;
    expect(settled).to.deep.include({ ...recorded, state: "anchored" });
    expect((await registry.latestBatch()).statusRoot).to.equal(recorded.statusRoot);
    expect(view.tree.root).to.equal(recorded.statusRoot);
    expect(view.anchor).to.deep.equal(settled);
  });

  it("marks a batch anchored after a crash between mining and recording it, without sending twice", async () => {
    const { issueOne, restart, registry, anchorLogs } = await setup((chain) => crashing(chain, "after mining"));
    await issueOne(1);
    await temp.parts.anchorer.step().then(
      () => expect.fail("should have crashed"),
      (e: Error) => expect(e.message).to.match(/after mining/),
    );
    expect((await temp.parts.journal.batch(1))!.state).to.equal("prepared");
    expect(await anchorLogs()).to.equal(1);

    const settled = (await (await restart()).anchorer.step())!;
    expect(settled.state).to.equal("anchored");
    expect(settled.transactionHash).to.equal((await registry.queryFilter(registry.filters.BatchAnchored(1)))[0].transactionHash);
    expect(await anchorLogs()).to.equal(1);
  });

  it("keeps accepting while a batch is in flight: the next batch carries what came after the cut", async () => {
    const { issueOne, restart } = await setup((chain) => crashing(chain, "before sending"));
    await issueOne(1);
    await temp.parts.anchorer.step().catch(() => undefined);
    await issueOne(2); // accepted after the cut: joins batch 2
    const { anchorer, intake } = await restart();
    expect(intake.backlog).to.equal(2);
    expect((await anchorer.step())!.batch).to.equal(1);
    expect(intake.backlog).to.equal(1);
    const second = (await anchorer.step())!;
    expect([second.batch, second.eventCount, second.state]).to.deep.equal([2, 1, "anchored"]);
    expect(intake.backlog).to.equal(0);
    expect(await anchorer.step()).to.equal(undefined);
  });

  it("confirms its current root on chain while idle (a heartbeat), and an idle service notices a rogue anchor that way", async () => {
    const { issueOne, registry, publisher } = await setup();
    await issueOne(1);
    const anchored = (await temp.parts.anchorer.step())!;
    await time.increase(120);
    const beat = await temp.parts.anchorer.heartbeat();
    const current = await registry.currentRoot();
    expect([current.batch, current.statusRoot, Number(current.confirmedBlock)]).to.deep.equal([1n, anchored.statusRoot, beat.blockNumber]);
    await registry.connect(publisher).anchor(2, anchored.statusRoot, h("a rogue root"), h("events"), 1, "0x01");
    const error = await temp.parts.anchorer.heartbeat().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(AnchorError).and.include({ code: "CHAIN_DIVERGED" });
    expect(temp.parts.intake.halted).to.equal(true);
  });

  it("stops with CHAIN_DIVERGED when the chain holds a batch this service did not prepare", async () => {
    const { issueOne, registry, publisher } = await setup();
    await issueOne(1);
    const genesis = (await registry.latestBatch()).statusRoot;
    await registry.connect(publisher).anchor(1, genesis, h("a rogue root"), h("events"), 1, "0x01");
    const error = await temp.parts.anchorer.step().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(AnchorError);
    expect((error as AnchorError).code).to.equal("CHAIN_DIVERGED");
    expect((await temp.parts.journal.batch(1))!.state).to.equal("prepared");
    expect(temp.parts.view.anchor, "the anchored view did not move").to.equal(undefined);
    // nothing accepted from now on could be anchored: intake stops at once
    expect(temp.parts.intake.halted).to.equal(true);
    const refused = await issueOne(2).catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(IntakeError).and.to.include({ code: "CHAIN_DIVERGED" });
  });

  it("names the registry's refusal when it is paused, stops intake at nothing, and anchors once unpaused", async () => {
    const { issueOne, registry, admin, anchorLogs } = await setup();
    await issueOne(1);
    await registry.connect(admin).pause();
    const refused = await temp.parts.anchorer.step().catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(ChainError).and.to.include({ code: "ANCHOR_FAILED" });
    expect((refused as Error).message).to.match(/refuses the anchor of batch 1: EnforcedPause\(\)/);
    expect(temp.parts.intake.halted, "a paused registry is an outage, not a divergence").to.equal(false);
    await registry.connect(admin).unpause();
    expect((await temp.parts.anchorer.step())!.state).to.equal("anchored");
    expect(await anchorLogs()).to.equal(1);
  });

  it("rebuilds its tree from the journal on restart, equal to the chain's root", async () => {
    const { issueOne, restart, registry } = await setup();
    for (const n of [1, 2, 3]) {
      await issueOne(n);
      await temp.parts.anchorer.step();
    }
    const { view } = await restart();
    expect(view.tree.root).to.equal((await registry.latestBatch()).statusRoot);
    expect(view.tree.size).to.equal(3);
    expect(view.anchor?.batch).to.equal(3);
  });

  it("restores its tree from a snapshot of an earlier anchored batch, ignores one that does not fit, survives a corrupt file", async () => {
    const { chain, issueOne, registry } = await setup();
    const file = path.join(temp.dir, "tree.snapshot");
    const { hasher } = temp;
    for (const n of [1, 2, 3]) {
      await issueOne(n);
      await temp.parts.anchorer.step();
      if (n === 1) await writeTreeSnapshot(file, 1, temp.parts.view.tree);
    }
    const chainRoot = (await registry.latestBatch()).statusRoot;

    const snapshot = (await readTreeSnapshot(file, hasher))!;
    expect(snapshot.batch).to.equal(1);
    const restored = (await temp.reopen(chain, snapshot)).view;
    expect(restored.tree, "the snapshot's tree was caught up, not rebuilt").to.equal(snapshot.tree);
    expect(restored.tree.root).to.equal(chainRoot);
    expect(restored.tree.size).to.equal(3);

    const mislabelled = { batch: 2, tree: (await readTreeSnapshot(file, hasher))!.tree }; // batch 1's tree claiming batch 2
    const rebuilt = (await temp.reopen(chain, mislabelled)).view;
    expect(rebuilt.tree).to.not.equal(mislabelled.tree);
    expect(rebuilt.tree.root).to.equal(chainRoot);

    const bytes = await readFile(file);
    bytes[bytes.length - 40] ^= 1;
    await writeFile(file, bytes);
    expect(await readTreeSnapshot(file, hasher), "a corrupt snapshot is no snapshot").to.equal(undefined);
    expect(await readTreeSnapshot(path.join(temp.dir, "none"), hasher)).to.equal(undefined);
  });
});
