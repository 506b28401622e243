import { expect } from "chai";
import hre from "hardhat";
import { Status } from "../../registry-service/src/core";
import { AnchorError } from "../../registry-service/src/anchoring";
import { runAudit } from "../../registry-service/src/audit/audit";
import { EthersAnchorChain } from "../../registry-service/src/chain/write";
import { startMirror } from "../../registry-service/src/mirror/mirror";
import { createVerifier } from "../../registry-service/src/verifier";
import { deployWithRoles } from "../support/fixtures";
import { acceptIssue, anchorForgery } from "../support/forgery";
import { tempRegistry } from "../support/tempRegistry";

const DEPTH = 16;
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe("Correction after a divergence: the admin strikes a rogue anchor, the service re-bases, the audit recognises it", () => {
  let temp: Awaited<ReturnType<typeof tempRegistry>>;
  let mirror: Awaited<ReturnType<typeof startMirror>> | undefined;
  afterEach(async () => {
    await mirror?.close();
    mirror = undefined;
    temp.remove();
  });

  /** One batch anchored by the service, a second accepted; then a leaked publisher key anchors a forged state as batch 2. */
  async function diverged() {
    const f = await deployWithRoles(DEPTH);
    const chain = new EthersAnchorChain(f.registry.connect(f.publisher));
    temp = await tempRegistry(chain, { depth: DEPTH });
    const registryAddress = await f.registry.getAddress();
    const domain = { chainId: (await hre.ethers.provider.getNetwork()).chainId, verifyingContract: registryAddress };
    const issue = (n: number) => acceptIssue(temp, f.issuer, domain, n);
    await issue(1);
    await temp.parts.anchorer.step();
    await issue(2);
    const { forged, forgedRoot, forger: forgedSource } = await anchorForgery(f, temp, DEPTH);
    const verifier = await createVerifier({
      chain: hre.ethers.provider,
      registry: registryAddress,
      sources: [forgedSource],
      rootCacheMs: 0,
    });
    return { ...f, chain, registryAddress, issue, forged, forgedRoot, verifier };
  }

  it("resumes on the corrected state: struck root refused, pending work anchored as the correction, audit passes naming it", async () => {
    const { registry, admin, stranger, issue, forged, forgedRoot, verifier, registryAddress } = await diverged();
    const presented = { credentialCommitment: forged.credentialCommitment, deviceKeyHash: forged.deviceKeyHash };
    expect((await verifier.check(0, presented)).reason, "the forged root fools banks until corrected").to.equal("VALID");
    expect(await failure(temp.parts.anchorer.step()))
      .to.be.instanceOf(AnchorError)
      .and.include({ code: "CHAIN_DIVERGED" });
    mirror = await startMirror({ provider: hre.ethers.provider, registry: registryAddress, port: 0, pollMs: 3_600_000 });
    expect(mirror.follower.divergence?.batch, "the mirror stops serving at the rogue batch").to.equal(2);
    expect(temp.parts.intake.halted).to.equal(true);

    await registry.connect(admin).revokeRole(await registry.PUBLISHER_ROLE(), stranger.address);
    await registry.connect(admin).approveCorrection(1);
    const parts = await temp.reopen();
    expect(parts.rebased).to.deep.equal({ base: 1, through: 2, moved: 1 });
    expect(parts.intake.halted).to.equal(false);

    const correction = (await parts.anchorer.step())!;
    expect([correction.batch, correction.state, correction.previousRoot, correction.correction]).to.deep.equal([
      3,
      "anchored",
      forgedRoot,
      { base: 1, through: 2 },
    ]);
    expect(await registry.queryFilter(registry.filters.BatchCorrected())).to.have.length(1);
    expect((await registry.latestBatch()).statusRoot).to.equal(parts.view.tree.root);
    expect(parts.view.record(1)).to.include({ status: Status.Active, batch: 3 });
    expect(await verifier.rootInfo(forgedRoot)).to.deep.equal({ statusRoot: forgedRoot, struckBy: 3 });
    expect((await verifier.check(0, presented)).reason).to.equal("ROOT_STRUCK");
    expect(await mirror.sync(), "the mirror serves again on the corrected state").to.equal(undefined);
    expect([mirror.follower.replayer.batch, mirror.follower.root]).to.deep.equal([3, parts.view.tree.root]);

    await issue(3); // intake takes work again, in the batches after the correction
    expect((await parts.anchorer.step())!.batch).to.equal(4);
    const report = await runAudit(hre.ethers.provider, registryAddress);
    expect([report.ok, report.batches, report.events, report.statusRoot]).to.deep.equal([true, 4, 3, parts.view.tree.root]);
    expect(report.corrections).to.have.length(1);
    const [recognised] = report.corrections;
    expect([recognised.batch, recognised.base, recognised.through]).to.deep.equal([3, 1, 2]);
    expect(recognised.struck.map((finding) => [finding.batch, finding.code])).to.deep.equal([[2, "CALLDATA_UNREADABLE"]]);

    // applied once: a restart neither re-bases again nor moves the view
    const again = await temp.reopen();
    expect(again.rebased).to.equal(undefined);
    expect(again.view.tree.root).to.equal((await registry.latestBatch()).statusRoot);
  });

  it("refuses an approval that does not re-base on the service's latest anchored batch, and changes nothing", async () => {
    const { registry, admin } = await diverged();
    await registry.connect(admin).approveCorrection(0);
    const refused = await failure(temp.reopen());
    expect(refused).to.be.instanceOf(AnchorError).and.include({ code: "CORRECTION_REFUSED" });
    expect((refused as Error).message).to.match(/approve one on batch 1/);
    await registry.connect(admin).approveCorrection(1);
    expect((await temp.reopen()).rebased).to.deep.equal({ base: 1, through: 2, moved: 1 });
  });
});
