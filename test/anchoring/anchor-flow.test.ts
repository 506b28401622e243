import { expect } from "chai";
import hre from "hardhat";
import { id } from "ethers";
import {
  blankEvent,
  Channel,
  EventKind,
  recoverSubmitter,
  signSubmission,
  deadlineIn,
  Status,
  type Hex,
  type StatusEvent,
} from "../../registry-service/src/core";
import { EthersAnchorChain } from "../../registry-service/src/chain/write";
import { tempRegistry } from "../support/tempRegistry";
import { deployWithRoles } from "../support/fixtures";
import { expectChainReplays } from "../support/replay";

const DEPTH = 32;
const h = (label: string) => id(label) as Hex;

describe("journal -> batch -> anchor -> proof, and a replay from calldata alone", () => {
  let temp: Awaited<ReturnType<typeof tempRegistry>> | undefined;
  after(() => temp?.remove());

  it("anchors two batches whose roots verify on chain and are recomputed from the transactions", async () => {
    const { registry, publisher, issuer, operator } = await deployWithRoles(DEPTH);
    temp = await tempRegistry(new EthersAnchorChain(registry.connect(publisher)), { depth: DEPTH });
    const { intake, anchorer, view } = temp.parts;
    const domain = { chainId: (await hre.ethers.provider.getNetwork()).chainId, verifyingContract: await registry.getAddress() };
    const roles = async (signer: Hex) => ({
      roles: {
        issuer: await registry.hasRole(await registry.ISSUER_ROLE(), signer),
        operator: await registry.hasRole(await registry.OPERATOR_ROLE(), signer),
      },
      block: await hre.ethers.provider.getBlockNumber(),
    });
    const submit = async (wallet: typeof issuer, nonce: string, events: StatusEvent[]) => {
      const submission = await signSubmission(wallet, domain, { nonce: h(nonce), deadline: deadlineIn(3600), events });
      const signer = recoverSubmitter(domain, submission);
      return intake.accept(signer, await roles(signer), submission);
    };
    const anchorNext = async () => {
      const settled = (await anchorer.step())!;
      expect(settled.state).to.equal("anchored");
      const tx = (await hre.ethers.provider.getTransaction(settled.transactionHash!))!;
      await expect(tx)
        .to.emit(registry, "BatchAnchored")
        .withArgs(settled.batch, settled.statusRoot, settled.previousRoot, settled.eventRoot, settled.eventCount, settled.eventDataHash);
      return { prepared: settled, tx };
    };

    // batch 1: the ministry issues two IDs in one signed bulk submission
    const issue = (holder: string, device: string): StatusEvent => ({
      ...blankEvent(EventKind.Issue),
      holderRef: h(holder),
      credentialCommitment: h(`credential of ${holder}`),
      deviceKeyHash: h(device),
      channel: Channel.ChipCard,
    });
    await submit(issuer, "bulk 1", [issue("alice", "alice's phone"), issue("bob", "bob's phone")]);
    const first = await anchorNext();
    const aliceActive = intake.record(0)!;
    const aliceProof1 = view.tree.prove(0);
    expect(await registry.verifyStatus(first.prepared.statusRoot, aliceActive, aliceProof1)).to.equal(Status.Active);

    // batch 2: alice's phone is reported lost by her telecom operator
    await submit(operator, "lost 1", [{ ...blankEvent(EventKind.LockDevice), deviceKeyHash: h("alice's phone") }]);
    const second = await anchorNext();
    const aliceLocked = intake.record(0)!;
    expect(await registry.verifyStatus(second.prepared.statusRoot, aliceLocked, view.tree.prove(0))).to.equal(Status.Suspended);
    expect(await anchorer.step()).to.equal(undefined); // nothing left to anchor
    // the old root still proves the old status: history is kept, and rootInfo says it was superseded
    expect(await registry.verifyStatus(first.prepared.statusRoot, aliceActive, aliceProof1)).to.equal(Status.Active);
    expect((await registry.rootInfo(first.prepared.statusRoot)).supersededAt).to.be.greaterThan(0);

    // an auditor's replay in miniature: only the transactions, the core and the roles on chain
    const replay = await expectChainReplays(hre.ethers.provider, domain.verifyingContract);
    expect(replay.batch).to.equal(2);
    expect(replay.tree.root).to.equal(second.prepared.statusRoot);
  });
});
