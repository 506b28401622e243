import { expect } from "chai";
import { testPhone, withGrants } from "../support/devices";
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
import { ChainHistory, RoleFollower } from "../../registry-service/src/chain/read";
import type { BatchPolicy } from "../../registry-service/src/intake";
import { tempRegistry } from "../support/tempRegistry";
import { deployWithRoles } from "../support/fixtures";
import { expectChainReplays } from "../support/replay";
import { ev } from "../support/scriptedPublisher";

const DEPTH = 32;
const h = (label: string) => id(label) as Hex;

describe("journal -> batch -> anchor -> proof, and a replay from calldata alone", () => {
  let temp: Awaited<ReturnType<typeof tempRegistry>> | undefined;
  after(() => temp?.remove());

  /** A registry on the test chain, the service's write path over it, and intake of signed submissions with roles read from the chain. */
  async function flow(policy: Partial<BatchPolicy> = {}) {
    const roles = await deployWithRoles(DEPTH);
    const { registry, publisher } = roles;
    temp = await tempRegistry(new EthersAnchorChain(registry.connect(publisher)), { depth: DEPTH, policy });
    const domain = { chainId: (await hre.ethers.provider.getNetwork()).chainId, verifyingContract: await registry.getAddress() };
    const follower = new RoleFollower(new ChainHistory(hre.ethers.provider, domain.verifyingContract), 0);
    const submit = async (wallet: typeof roles.issuer, nonce: string, events: StatusEvent[]) => {
      const granted = withGrants(events, domain, wallet.address);
      const submission = await signSubmission(wallet, domain, { nonce: h(nonce), deadline: deadlineIn(3600), events: granted });
      await follower.advance();
      const signer = recoverSubmitter(domain, submission);
      return temp!.parts.intake.accept(signer, follower.rolesNow(signer), submission);
    };
    return { ...roles, ...temp.parts, domain, submit };
  }

  it("anchors two batches whose roots verify on chain and are recomputed from the transactions", async () => {
    const { registry, issuer, operator, intake, anchorer, view, submit, domain } = await flow();
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
      credentialCommitment: h(`credential of ${holder}`),
      deviceKeyHash: testPhone(device).hash,
      channel: Channel.ChipCard,
    });
    await submit(issuer, "bulk 1", [issue("alice", "alice's phone"), issue("bob", "bob's phone")]);
    const first = await anchorNext();
    const aliceActive = intake.record(0)!;
    const aliceProof1 = view.tree.prove(0);
    expect(await registry.verifyStatus(first.prepared.statusRoot, aliceActive, aliceProof1)).to.equal(Status.Active);

    // batch 2: alice's phone is reported lost by her telecom operator
    await submit(operator, "lost 1", [testPhone("alice's phone").lock(domain, operator.address)]);
    const second = await anchorNext();
    const aliceLocked = intake.record(0)!;
    expect(await registry.verifyStatus(second.prepared.statusRoot, aliceLocked, view.tree.prove(0))).to.equal(Status.Suspended);
    expect(await anchorer.step()).to.equal(undefined); // nothing left to anchor
    // the old root still proves the old status: history is kept, and rootInfo says it was superseded
    expect(await registry.verifyStatus(first.prepared.statusRoot, aliceActive, aliceProof1)).to.equal(Status.Active);
    expect((await registry.rootInfo(first.prepared.statusRoot)).supersededAt).to.be.greaterThan(0);

    // an auditor's replay in miniature: only the transactions, the core and the roles on chain
    const replay = await expectChainReplays(hre.ethers.provider, await registry.getAddress());
    expect(replay.batch).to.equal(2);
    expect(replay.tree.root).to.equal(second.prepared.statusRoot);
  });

  it("anchors a lock placed ahead of queued issuances in the batch order the audit replays", async () => {
    const { issuer, operator, intake, anchorer, view, submit, registry } = await flow({ maxEvents: 4, priorityReserve: 0.25 });
    for (let n = 0; n < 9; n++) await submit(issuer, `bulk ${n}`, [ev.issue(`holder ${n}`, `device ${n}`)]); // batches 1, 2, 3 of three issuances
    expect((await anchorer.step())!.batch).to.equal(1);
    const lock = await submit(operator, "lost 0", [ev.lock("device 0")]);
    expect(lock.entry.batch, "the next batch to anchor, not behind batches 2 and 3").to.equal(2);
    expect((await anchorer.step())!.eventCount).to.equal(4);
    expect(view.record(0)).to.include({ status: Status.Suspended, batch: 2 });
    while (await anchorer.step());
    expect(intake.backlog).to.equal(0);
    const replay = await expectChainReplays(hre.ethers.provider, await registry.getAddress());
    expect(replay.batch).to.equal(3);
    expect(replay.tree.root).to.equal(view.tree.root);
  });
});
