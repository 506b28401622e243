import { expect } from "chai";
import hre from "hardhat";
import { id } from "ethers";
import { type Hex } from "../../registry-service/src/core";
import { runAudit } from "../../registry-service/src/audit/audit";
import { EthersAnchorChain } from "../../registry-service/src/chain/write";
import { createVerifier, type StatusSource } from "../../registry-service/src/verifier";
import { Witness, WitnessError } from "../../registry-service/src/witness/witness";
import { deployWithRoles } from "../support/fixtures";
import { acceptIssue, anchorForgery } from "../support/forgery";
import { tempRegistry } from "../support/tempRegistry";

const DEPTH = 16;
const h = (label: string) => id(label) as Hex;

describe("Witnesses: consortium members attest the roots their own replay reproduces", () => {
  let temp: Awaited<ReturnType<typeof tempRegistry>>;
  const witnesses: Witness[] = [];
  afterEach(() => {
    for (const witness of witnesses.splice(0)) witness.close();
    temp.remove();
  });

  /** The service anchoring on a registry with three witness keys: two run honest witnesses, the third is free to lie. */
  async function consortium() {
    const f = await deployWithRoles(DEPTH);
    const [honest1, honest2, liar] = (await hre.ethers.getSigners()).slice(5, 8);
    for (const account of [honest1, honest2, liar])
      await f.registry.connect(f.admin).grantRole(await f.registry.WITNESS_ROLE(), account.address);
    temp = await tempRegistry(new EthersAnchorChain(f.registry.connect(f.publisher)), { depth: DEPTH });
    const address = await f.registry.getAddress();
    const domain = { chainId: (await hre.ethers.provider.getNetwork()).chainId, verifyingContract: address };
    const issue = async (n: number) => {
      await acceptIssue(temp, f.issuer, domain, n);
      return (await temp.parts.anchorer.step())!;
    };
    const start = async (signer: typeof honest1) => {
      const witness = await Witness.start({ provider: hre.ethers.provider, registry: address, signer });
      witnesses.push(witness);
      return witness;
    };
    const bank = (minWitnesses: number, source: StatusSource) =>
      createVerifier({ chain: hre.ethers.provider, registry: address, sources: [source], rootCacheMs: 0, minWitnesses });
    return { ...f, address, honest1, honest2, liar, issue, start, bank };
  }

  /** A status source answering with the service's anchored view (what the service's read API serves). */
  const serviceSource = (): StatusSource => ({
    name: "service",
    status: async (index) => {
      const { view } = temp.parts;
      return {
        index,
        anchored: {
          record: view.record(index)!,
          proof: view.tree.prove(index),
          anchor: { batch: view.anchor!.batch, statusRoot: view.tree.root, transactionHash: null, blockNumber: null },
        },
        pending: null,
      };
    },
  });

  it("attests each anchored batch; a bank that requires two witnesses refuses a root until both attested", async () => {
    const c = await consortium();
    const [first, second] = [await c.start(c.honest1), await c.start(c.honest2)];
    const anchored = await c.issue(1);
    const bank = await c.bank(2, serviceSource());
    const presented = { credentialCommitment: h("c 1"), deviceKeyHash: h("device 1") };
    expect((await bank.check(0, presented)).reason).to.equal("ROOT_UNWITNESSED");
    await first.sync();
    const once = await bank.check(0, presented);
    expect(once.reason).to.equal("ROOT_UNWITNESSED");
    expect(once.message).to.include("attested by 1 of the 2 witnesses required");
    await second.sync();
    expect((await bank.check(0, presented)).reason).to.equal("VALID");
    expect(await c.registry.attestations(anchored.statusRoot)).to.equal(2n);
    expect(first.attested.map(({ batch, statusRoot }) => [batch, statusRoot])).to.deep.equal([[1, anchored.statusRoot]]);
  });

  it("refuses a stolen publisher key's rogue root: no honest witness attests it, a liar is outvoted and named by the audit", async () => {
    const c = await consortium();
    const honest = [await c.start(c.honest1), await c.start(c.honest2)];
    await c.issue(1);
    for (const witness of honest) await witness.sync();
    const { forged, forgedRoot, forger } = await anchorForgery(c, temp, DEPTH); // a leaked publisher key's forged state
    for (const witness of honest) await witness.sync();
    expect(honest.map((witness) => witness.follower.divergence?.batch)).to.deep.equal([2, 2]);
    expect(await c.registry.attestations(forgedRoot), "no honest witness attests the rogue root").to.equal(0n);
    const thief = { credentialCommitment: forged.credentialCommitment, deviceKeyHash: forged.deviceKeyHash };
    expect((await (await c.bank(1, forger)).check(0, thief)).reason, "no witness vouches for it").to.equal("ROOT_UNWITNESSED");
    await c.registry.connect(c.liar).attest(2, forgedRoot); // a lying (or colluding) witness
    expect((await (await c.bank(0, forger)).check(0, thief)).reason, "without witnesses the rogue root fools a bank").to.equal("VALID");
    expect((await (await c.bank(1, forger)).check(0, thief)).reason, "one lying witness fools a bank that asks for one").to.equal("VALID");
    expect((await (await c.bank(2, forger)).check(0, thief)).reason, "two of three: the liar is outvoted").to.equal("ROOT_UNWITNESSED");

    const report = await runAudit(hre.ethers.provider, c.address);
    const named = report.findings.filter((finding) => finding.code === "WITNESS_MISATTESTED");
    expect(named.map((finding) => [finding.batch, finding.witness, finding.computed])).to.deep.equal([[2, c.liar.address, forgedRoot]]);
    expect(report.witnesses.byWitness).to.deep.equal({ [c.honest1.address]: 1, [c.honest2.address]: 1, [c.liar.address]: 1 });
  });

  it("refuses a key without WITNESS_ROLE, and a restarted witness does not attest twice", async () => {
    const c = await consortium();
    const refused = await Witness.start({ provider: hre.ethers.provider, registry: c.address, signer: c.stranger }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).to.be.instanceOf(WitnessError).and.include({ code: "NOT_A_WITNESS" });
    const anchored = await c.issue(1);
    const witness = await c.start(c.honest1); // starts at the latest batch: attests it
    expect(witness.attested.map(({ batch, transactionHash }) => [batch, transactionHash === null])).to.deep.equal([[1, false]]);
    witness.close();
    const again = await c.start(c.honest1);
    expect(again.attested.map(({ batch, transactionHash }) => [batch, transactionHash])).to.deep.equal([[1, null]]);
    expect(await c.registry.attestations(anchored.statusRoot)).to.equal(1n);
  });

  it("follows on its own: attestations land within a few polls of each anchor", async () => {
    const c = await consortium();
    const witness = (await c.start(c.honest1)).follow(20);
    const anchored = await c.issue(1);
    while ((await c.registry.attestations(anchored.statusRoot)) === 0n) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(witness.attested.at(-1)?.statusRoot).to.equal(anchored.statusRoot);
    expect(witness.lastError()).to.equal(undefined);
  });
});
