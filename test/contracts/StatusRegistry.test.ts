import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { id, ZeroHash } from "ethers";
import { deployWithRoles } from "../support/fixtures";
import { vectors, type InvalidOutcome } from "../support/vectors";
import { refEventDataHash, refFold, type RefRecord } from "../reference/reference";

const DEPTH = 8;
const EVENT_DATA = "0x01000000010203";
const root = (label: string) => id(`status root ${label}`);
const eventRoot = id("event root");

describe("StatusRegistry", () => {
  const fixture = () => deployWithRoles(DEPTH);
  const emptyRoot = vectors.statusTree.emptySubtrees[DEPTH];

  async function anchored() {
    const f = await loadFixture(fixture);
    const tx = await f.registry.connect(f.publisher).anchor(1, emptyRoot, root("1"), eventRoot, 3, EVENT_DATA);
    return { ...f, tx };
  }

  describe("deployment", () => {
    it("starts at batch 0 with the empty-tree root of its depth", async () => {
      const { registry } = await loadFixture(fixture);
      expect(await registry.treeDepth()).to.equal(DEPTH);
      const latest = await registry.latestBatch();
      expect(latest.batch).to.equal(0);
      expect(latest.statusRoot).to.equal(emptyRoot);
      expect(latest.supersededAt).to.equal(0);
      expect((await registry.rootInfo(emptyRoot)).batch).to.equal(0);
    });

    it("gives the admin, publisher, issuer and operator their roles and nothing more", async () => {
      const { registry, admin, publisher, issuer, operator, stranger } = await loadFixture(fixture);
      const roles = {
        admin: await registry.DEFAULT_ADMIN_ROLE(),
        publisher: await registry.PUBLISHER_ROLE(),
        issuer: await registry.ISSUER_ROLE(),
        operator: await registry.OPERATOR_ROLE(),
      };
      const holders = { admin, publisher, issuer, operator };
      for (const [roleName, role] of Object.entries(roles)) {
        for (const [holderName, holder] of Object.entries(holders)) {
          expect(await registry.hasRole(role, holder.address), `${holderName} as ${roleName}`).to.equal(roleName === holderName);
        }
        expect(await registry.hasRole(role, stranger.address)).to.equal(false);
      }
    });

    for (const depth of [0, 65]) {
      it(`refuses depth ${depth}`, async () => {
        const [admin] = await hre.ethers.getSigners();
        const factory = await hre.ethers.getContractFactory("StatusRegistry");
        await expect(factory.deploy(admin.address, depth, 0))
          .to.be.revertedWithCustomError(factory, "StatusRegistryInvalidDepth")
          .withArgs(depth);
      });
    }
  });

  describe("anchor", () => {
    it("records the batch and emits BatchAnchored with the hash of the event data", async () => {
      const { registry, tx } = await anchored();
      await expect(tx).to.emit(registry, "BatchAnchored").withArgs(1, root("1"), emptyRoot, eventRoot, 3, refEventDataHash(EVENT_DATA));
      const receipt = (await tx.wait())!;
      const block = (await receipt.getBlock())!;
      const latest = await registry.latestBatch();
      expect([latest.batch, latest.statusRoot, latest.anchoredAt, latest.anchoredBlock, latest.supersededAt]).to.deep.equal([
        1n,
        root("1"),
        BigInt(block.timestamp),
        BigInt(receipt.blockNumber),
        0n,
      ]);
      expect(await registry.batchInfo(1)).to.deep.equal(latest);
      expect(await registry.rootInfo(root("1"))).to.deep.equal(latest);
    });

    for (const { length, data, hash } of vectors.submissions.eventDataHashes) {
      it(`emits the chunked hash of ${length} bytes of event data`, async () => {
        const { registry, publisher } = await loadFixture(fixture);
        await expect(registry.connect(publisher).anchor(1, emptyRoot, root("1"), eventRoot, 1, data))
          .to.emit(registry, "BatchAnchored")
          .withArgs(1, root("1"), emptyRoot, eventRoot, 1, hash);
      });
    }

    it("marks the previous root superseded at the new batch's time", async () => {
      const { registry, publisher } = await anchored();
      await time.increase(600);
      const tx = await registry.connect(publisher).anchor(2, root("1"), root("2"), eventRoot, 1, EVENT_DATA);
      const block = (await (await tx.wait())!.getBlock())!;
      const first = await registry.batchInfo(1);
      expect(first.supersededAt).to.equal(block.timestamp);
      expect((await registry.rootInfo(root("1"))).supersededAt).to.equal(block.timestamp);
      expect((await registry.rootInfo(emptyRoot)).supersededAt).to.equal(first.anchoredAt);
      expect((await registry.latestBatch()).batch).to.equal(2);
    });

    for (const { title, batch, previous, expected } of [
      { title: "batch 0 again", batch: 0, previous: "genesis", expected: 1 },
      { title: "a gap (batch 2 first)", batch: 2, previous: "genesis", expected: 1 },
    ]) {
      it(`refuses ${title} with StatusRegistryUnexpectedBatch`, async () => {
        const { registry, publisher } = await loadFixture(fixture);
        const prev = previous === "genesis" ? emptyRoot : previous;
        await expect(registry.connect(publisher).anchor(batch, prev, root("x"), eventRoot, 1, EVENT_DATA))
          .to.be.revertedWithCustomError(registry, "StatusRegistryUnexpectedBatch")
          .withArgs(expected, batch);
      });
    }

    it("refuses the same batch number twice", async () => {
      const { registry, publisher } = await anchored();
      await expect(registry.connect(publisher).anchor(1, root("1"), root("other"), eventRoot, 1, EVENT_DATA))
        .to.be.revertedWithCustomError(registry, "StatusRegistryUnexpectedBatch")
        .withArgs(2, 1);
    });

    for (const { title, previous } of [
      { title: "a root that is not the current one (fork)", previous: root("elsewhere") },
      { title: "zero", previous: ZeroHash },
    ]) {
      it(`refuses a previous root that is ${title}`, async () => {
        const { registry, publisher } = await anchored();
        await expect(registry.connect(publisher).anchor(2, previous, root("2"), eventRoot, 1, EVENT_DATA))
          .to.be.revertedWithCustomError(registry, "StatusRegistryPreviousRootMismatch")
          .withArgs(root("1"), previous);
      });
    }

    it("refuses to build on a superseded root", async () => {
      const { registry, publisher } = await anchored();
      await expect(registry.connect(publisher).anchor(2, emptyRoot, root("2"), eventRoot, 1, EVENT_DATA))
        .to.be.revertedWithCustomError(registry, "StatusRegistryPreviousRootMismatch")
        .withArgs(root("1"), emptyRoot);
    });

    for (const { title, status, events } of [
      { title: "status root", status: ZeroHash, events: eventRoot },
      { title: "event root", status: root("1"), events: ZeroHash },
    ]) {
      it(`refuses a zero ${title}`, async () => {
        const { registry, publisher } = await loadFixture(fixture);
        await expect(registry.connect(publisher).anchor(1, emptyRoot, status, events, 1, EVENT_DATA)).to.be.revertedWithCustomError(
          registry,
          "StatusRegistryZeroRoot",
        );
      });
    }

    for (const { title, count, data } of [
      { title: "no events", count: 0, data: EVENT_DATA },
      { title: "no event data", count: 1, data: "0x" },
    ]) {
      it(`refuses a batch with ${title}`, async () => {
        const { registry, publisher } = await loadFixture(fixture);
        await expect(registry.connect(publisher).anchor(1, emptyRoot, root("1"), eventRoot, count, data))
          .to.be.revertedWithCustomError(registry, "StatusRegistryEmptyBatch")
          .withArgs(count, (data.length - 2) / 2);
      });
    }

    it("refuses a status root that was anchored before", async () => {
      const { registry, publisher } = await anchored();
      await expect(registry.connect(publisher).anchor(2, root("1"), emptyRoot, eventRoot, 1, EVENT_DATA))
        .to.be.revertedWithCustomError(registry, "StatusRegistryRootAlreadyAnchored")
        .withArgs(emptyRoot, 0);
    });

    for (const who of ["admin", "issuer", "operator", "stranger"] as const) {
      it(`refuses the ${who}: only PUBLISHER_ROLE anchors`, async () => {
        const f = await loadFixture(fixture);
        await expect(f.registry.connect(f[who]).anchor(1, emptyRoot, root("1"), eventRoot, 1, EVENT_DATA))
          .to.be.revertedWithCustomError(f.registry, "AccessControlUnauthorizedAccount")
          .withArgs(f[who].address, await f.registry.PUBLISHER_ROLE());
      });
    }

    it("stops when the publisher's role is revoked, and the revocation is an on-chain event", async () => {
      const { registry, admin, publisher } = await loadFixture(fixture);
      const role = await registry.PUBLISHER_ROLE();
      await expect(registry.connect(admin).revokeRole(role, publisher.address))
        .to.emit(registry, "RoleRevoked")
        .withArgs(role, publisher.address, admin.address);
      await expect(registry.connect(publisher).anchor(1, emptyRoot, root("1"), eventRoot, 1, EVENT_DATA)).to.be.revertedWithCustomError(
        registry,
        "AccessControlUnauthorizedAccount",
      );
    });
  });

  describe("pause", () => {
    it("stops anchoring while paused and resumes after unpause", async () => {
      const { registry, admin, publisher } = await loadFixture(fixture);
      await expect(registry.connect(admin).pause()).to.emit(registry, "Paused").withArgs(admin.address);
      await expect(registry.connect(publisher).anchor(1, emptyRoot, root("1"), eventRoot, 1, EVENT_DATA)).to.be.revertedWithCustomError(
        registry,
        "EnforcedPause",
      );
      expect((await registry.latestBatch()).batch).to.equal(0);
      await expect(registry.connect(admin).unpause()).to.emit(registry, "Unpaused").withArgs(admin.address);
      await expect(registry.connect(publisher).anchor(1, emptyRoot, root("1"), eventRoot, 1, EVENT_DATA)).to.emit(
        registry,
        "BatchAnchored",
      );
    });

    for (const fn of ["pause", "unpause"] as const) {
      for (const who of ["publisher", "issuer", "operator", "stranger"] as const) {
        it(`refuses ${fn} by the ${who}`, async () => {
          const f = await loadFixture(fixture);
          if (fn === "unpause") await f.registry.connect(f.admin).pause();
          await expect(f.registry.connect(f[who])[fn]())
            .to.be.revertedWithCustomError(f.registry, "AccessControlUnauthorizedAccount")
            .withArgs(f[who].address, await f.registry.DEFAULT_ADMIN_ROLE());
        });
      }
    }

    it("keeps views and proof verification working while paused", async () => {
      const { registry, admin } = await anchored();
      await registry.connect(admin).pause();
      expect((await registry.latestBatch()).statusRoot).to.equal(root("1"));
    });
  });

  describe("heartbeat: a current root that ages only when anchoring stops", () => {
    it("confirms the current root: currentRoot says when (anchor or heartbeat) and whether paused", async () => {
      const { registry, publisher, admin, tx } = await anchored();
      const anchoredBlock = (await tx.wait())!.blockNumber;
      let current = await registry.currentRoot();
      expect([current.statusRoot, current.batch, current.confirmedBlock, current.isPaused]).to.deep.equal([
        root("1"),
        1n,
        BigInt(anchoredBlock),
        false,
      ]);
      await time.increase(600);
      const beat = registry.connect(publisher).heartbeat(1, root("1"));
      await expect(beat).to.emit(registry, "RootConfirmed").withArgs(1, root("1"));
      const block = (await (await (await beat).wait())!.getBlock())!;
      current = await registry.currentRoot();
      expect([current.confirmedAt, current.confirmedBlock]).to.deep.equal([BigInt(block.timestamp), BigInt(block.number)]);
      await registry.connect(admin).pause();
      expect((await registry.currentRoot()).isPaused).to.equal(true);
    });

    it("refuses another root or batch, another role, and a paused registry", async () => {
      const { registry, publisher, issuer, admin } = await anchored();
      await expect(registry.connect(publisher).heartbeat(1, root("other")))
        .to.be.revertedWithCustomError(registry, "StatusRegistryNotCurrent")
        .withArgs(1, root("1"));
      await expect(registry.connect(publisher).heartbeat(0, root("1"))).to.be.revertedWithCustomError(registry, "StatusRegistryNotCurrent");
      await expect(registry.connect(issuer).heartbeat(1, root("1"))).to.be.revertedWithCustomError(
        registry,
        "AccessControlUnauthorizedAccount",
      );
      await registry.connect(admin).pause();
      await expect(registry.connect(publisher).heartbeat(1, root("1"))).to.be.revertedWithCustomError(registry, "EnforcedPause");
    });
  });

  describe("correction", () => {
    /** batch 1 by the publisher, then batches 2 and 3 by a leaked publisher key (the stranger, granted the role) */
    async function rogueAnchored() {
      const f = await anchored();
      const { registry, admin, publisher, stranger } = f;
      await registry.connect(admin).grantRole(await registry.PUBLISHER_ROLE(), stranger.address);
      await registry.connect(stranger).anchor(2, root("1"), root("rogue 2"), eventRoot, 1, EVENT_DATA);
      await registry.connect(stranger).anchor(3, root("rogue 2"), root("rogue 3"), eventRoot, 1, EVENT_DATA);
      return {
        ...f,
        correct: (signer = publisher) =>
          registry.connect(signer).anchorCorrection(4, root("rogue 3"), root("fixed"), eventRoot, 2, EVENT_DATA),
      };
    }

    it("strikes the approved batches and re-bases: their roots are refused, history stays", async () => {
      const { registry, admin, correct } = await rogueAnchored();
      await expect(registry.connect(admin).approveCorrection(1)).to.emit(registry, "CorrectionApproved").withArgs(1, 3, admin.address);
      expect(await registry.approvedCorrection()).to.deep.equal([1n, 3n]);
      const tx = correct();
      await expect(tx)
        .to.emit(registry, "BatchAnchored")
        .withArgs(4, root("fixed"), root("rogue 3"), eventRoot, 2, refEventDataHash(EVENT_DATA));
      await expect(tx).to.emit(registry, "BatchCorrected").withArgs(4, 1, 3);
      for (const struck of ["rogue 2", "rogue 3"]) {
        await expect(registry.rootInfo(root(struck)))
          .to.be.revertedWithCustomError(registry, "StatusRegistryRootStruck")
          .withArgs(root(struck), 4);
      }
      expect((await registry.batchInfo(2)).statusRoot).to.equal(root("rogue 2"));
      expect((await registry.rootInfo(root("1"))).batch).to.equal(1);
      expect((await registry.latestBatch()).statusRoot).to.equal(root("fixed"));
      expect(await registry.approvedCorrection()).to.deep.equal([0n, 0n]);
      await expect(correct()).to.be.revertedWithCustomError(registry, "StatusRegistryNoCorrectionApproved");
    });

    it("refuses a proof against a struck root", async () => {
      const { registry, admin, correct } = await rogueAnchored();
      await registry.connect(admin).approveCorrection(1);
      await correct();
      const record = { index: 0, credentialCommitment: ZeroHash, deviceKeyHash: ZeroHash, status: 0, reason: 0, batch: 0 };
      await expect(registry.verifyStatus(root("rogue 3"), record, Array(DEPTH).fill(ZeroHash)))
        .to.be.revertedWithCustomError(registry, "StatusRegistryRootStruck")
        .withArgs(root("rogue 3"), 4);
    });

    it("needs the admin's approval, and only the admin approves", async () => {
      const { registry, publisher, stranger, correct } = await rogueAnchored();
      await expect(correct()).to.be.revertedWithCustomError(registry, "StatusRegistryNoCorrectionApproved");
      for (const who of [publisher, stranger]) {
        await expect(registry.connect(who).approveCorrection(1)).to.be.revertedWithCustomError(
          registry,
          "AccessControlUnauthorizedAccount",
        );
      }
    });

    it("is outdated by any anchor after the approval", async () => {
      const { registry, admin, stranger, correct } = await rogueAnchored();
      await registry.connect(admin).approveCorrection(1);
      await registry.connect(stranger).anchor(4, root("rogue 3"), root("rogue 4"), eventRoot, 1, EVENT_DATA);
      await expect(correct()).to.be.revertedWithCustomError(registry, "StatusRegistryCorrectionOutdated").withArgs(3, 4);
    });

    for (const [title, base] of [
      ["the latest batch", 3],
      ["a batch not anchored yet", 7],
    ] as const) {
      it(`refuses to re-base on ${title}`, async () => {
        const { registry, admin } = await rogueAnchored();
        await expect(registry.connect(admin).approveCorrection(base))
          .to.be.revertedWithCustomError(registry, "StatusRegistryInvalidCorrection")
          .withArgs(base, 3);
      });
    }

    it("is anchored by a publisher only, with the anchor's checks, and not while paused", async () => {
      const { registry, admin, issuer, publisher, correct } = await rogueAnchored();
      await registry.connect(admin).approveCorrection(1);
      await expect(correct(issuer)).to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount");
      await expect(registry.connect(admin).anchorCorrection(4, root("1"), root("fixed"), eventRoot, 1, EVENT_DATA)).to.be.reverted;
      await registry.connect(admin).pause();
      await expect(correct()).to.be.revertedWithCustomError(registry, "EnforcedPause");
      await registry.connect(admin).unpause();
      await expect(registry.connect(publisher).anchorCorrection(4, root("1"), root("fixed"), eventRoot, 1, EVENT_DATA))
        .to.be.revertedWithCustomError(registry, "StatusRegistryPreviousRootMismatch")
        .withArgs(root("rogue 3"), root("1"));
      await expect(correct()).to.emit(registry, "BatchCorrected");
    });
  });

  describe("the admin: one account, handed over in two steps with a delay", () => {
    it("transfers only when the new admin accepts after the delay; the old admin keeps nothing", async () => {
      const { registry, admin, stranger, record } = await loadFixture(fixture);
      const adminRole = await registry.DEFAULT_ADMIN_ROLE();
      expect(await registry.defaultAdminDelay())
        .to.equal(record.adminDelaySeconds)
        .and.to.be.greaterThan(0);
      await registry.connect(admin).beginDefaultAdminTransfer(stranger.address);
      await expect(registry.connect(stranger).acceptDefaultAdminTransfer()).to.be.revertedWithCustomError(
        registry,
        "AccessControlEnforcedDefaultAdminDelay",
      );
      await time.increase(record.adminDelaySeconds + 1);
      await registry.connect(stranger).acceptDefaultAdminTransfer();
      expect(await registry.defaultAdmin()).to.equal(stranger.address);
      expect(await registry.hasRole(adminRole, admin.address)).to.equal(false);
      await expect(registry.connect(admin).pause()).to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount");
    });

    it("refuses a second admin by grantRole, and a transfer the admin cancelled", async () => {
      const { registry, admin, stranger, record } = await loadFixture(fixture);
      await expect(registry.connect(admin).grantRole(await registry.DEFAULT_ADMIN_ROLE(), stranger.address)).to.be.revertedWithCustomError(
        registry,
        "AccessControlEnforcedDefaultAdminRules",
      );
      await registry.connect(admin).beginDefaultAdminTransfer(stranger.address);
      await registry.connect(admin).cancelDefaultAdminTransfer();
      await time.increase(record.adminDelaySeconds + 1);
      await expect(registry.connect(stranger).acceptDefaultAdminTransfer()).to.be.revertedWithCustomError(
        registry,
        "AccessControlInvalidDefaultAdmin",
      );
      expect(await registry.defaultAdmin()).to.equal(admin.address);
    });
  });

  describe("the publisher's key holds no other role", () => {
    for (const [granted, holder, held] of [
      ["PUBLISHER_ROLE", "issuer", "ISSUER_ROLE"],
      ["PUBLISHER_ROLE", "operator", "OPERATOR_ROLE"],
      ["PUBLISHER_ROLE", "admin", "DEFAULT_ADMIN_ROLE"],
      ["ISSUER_ROLE", "publisher", "PUBLISHER_ROLE"],
      ["OPERATOR_ROLE", "publisher", "PUBLISHER_ROLE"],
      ["WITNESS_ROLE", "publisher", "PUBLISHER_ROLE"],
    ] as const) {
      it(`refuses ${granted} to the ${holder}, who holds ${held}`, async () => {
        const f = await loadFixture(fixture);
        const [role, heldRole] = [await f.registry[granted](), await f.registry[held]()];
        await expect(f.registry.connect(f.admin).grantRole(role, f[holder].address))
          .to.be.revertedWithCustomError(f.registry, "StatusRegistryRoleConflict")
          .withArgs(f[holder].address, role, heldRole);
      });
    }

    it("refuses the admin's role to the publisher at the end of a transfer", async () => {
      const { registry, admin, publisher, record } = await loadFixture(fixture);
      await registry.connect(admin).beginDefaultAdminTransfer(publisher.address);
      await time.increase(record.adminDelaySeconds + 1);
      await expect(registry.connect(publisher).acceptDefaultAdminTransfer()).to.be.revertedWithCustomError(
        registry,
        "StatusRegistryRoleConflict",
      );
    });
  });

  describe("witnesses", () => {
    async function witnessed() {
      const f = await anchored();
      const [witness, second] = (await hre.ethers.getSigners()).slice(5, 7);
      for (const account of [witness, second])
        await f.registry.connect(f.admin).grantRole(await f.registry.WITNESS_ROLE(), account.address);
      return { ...f, witness, second };
    }

    it("records each witness's attestation of an anchored root once, and counts them", async () => {
      const { registry, witness, second } = await witnessed();
      expect(await registry.attestations(root("1"))).to.equal(0);
      await expect(registry.connect(witness).attest(1, root("1")))
        .to.emit(registry, "RootAttested")
        .withArgs(1, root("1"), witness.address, 1);
      await expect(registry.connect(second).attest(1, root("1")))
        .to.emit(registry, "RootAttested")
        .withArgs(1, root("1"), second.address, 2);
      expect(await registry.attestations(root("1"))).to.equal(2);
      expect(await registry.hasAttested(root("1"), witness.address)).to.equal(true);
      expect(await registry.hasAttested(emptyRoot, witness.address)).to.equal(false);
      await expect(registry.connect(witness).attest(1, root("1")))
        .to.be.revertedWithCustomError(registry, "StatusRegistryAlreadyAttested")
        .withArgs(root("1"), witness.address);
    });

    it("refuses a root not anchored as that batch, a batch not anchored, and anyone but a witness", async () => {
      const { registry, witness, publisher, issuer } = await witnessed();
      await expect(registry.connect(witness).attest(1, root("other")))
        .to.be.revertedWithCustomError(registry, "StatusRegistryNotAnchoredAs")
        .withArgs(1, root("1"));
      await expect(registry.connect(witness).attest(0, root("1")))
        .to.be.revertedWithCustomError(registry, "StatusRegistryNotAnchoredAs")
        .withArgs(0, emptyRoot);
      await expect(registry.connect(witness).attest(2, root("1")))
        .to.be.revertedWithCustomError(registry, "StatusRegistryUnknownBatch")
        .withArgs(2);
      for (const signer of [publisher, issuer]) {
        await expect(registry.connect(signer).attest(1, root("1")))
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(signer.address, await registry.WITNESS_ROLE());
      }
    });

    it("attests while paused, and never a struck root", async () => {
      const { registry, admin, witness, publisher, stranger } = await witnessed();
      await registry.connect(admin).pause();
      await registry.connect(witness).attest(1, root("1"));
      await registry.connect(admin).unpause();
      await registry.connect(admin).grantRole(await registry.PUBLISHER_ROLE(), stranger.address);
      await registry.connect(stranger).anchor(2, root("1"), root("rogue"), eventRoot, 1, EVENT_DATA);
      await registry.connect(admin).approveCorrection(1);
      await registry.connect(publisher).anchorCorrection(3, root("rogue"), root("fixed"), eventRoot, 1, EVENT_DATA);
      await expect(registry.connect(witness).attest(2, root("rogue")))
        .to.be.revertedWithCustomError(registry, "StatusRegistryRootStruck")
        .withArgs(root("rogue"), 3);
    });
  });

  describe("verifyCurrentStatus: a decision now", () => {
    const tree = vectors.statusTree.trees[0];
    const { record, proof } = tree.proofs[0];
    async function current() {
      const f = await deployWithRoles(tree.depth);
      const empty = vectors.statusTree.emptySubtrees[tree.depth];
      await f.registry.connect(f.publisher).anchor(1, empty, tree.root, eventRoot, tree.records.length, EVENT_DATA);
      const [witness] = (await hre.ethers.getSigners()).slice(5, 6);
      await f.registry.connect(f.admin).grantRole(await f.registry.WITNESS_ROLE(), witness.address);
      return { ...f, witness };
    }

    it("answers the proven status of a current, confirmed root", async () => {
      const { registry } = await loadFixture(current);
      expect(await registry.verifyCurrentStatus(tree.root, record, proof, 60, 0)).to.equal(record.status);
    });

    it("refuses a current root not confirmed within maxAge, until a heartbeat", async () => {
      const { registry, publisher } = await loadFixture(current);
      await time.increase(120);
      await expect(registry.verifyCurrentStatus(tree.root, record, proof, 60, 0)).to.be.revertedWithCustomError(
        registry,
        "StatusRegistryRootTooOld",
      );
      await registry.connect(publisher).heartbeat(1, tree.root);
      expect(await registry.verifyCurrentStatus(tree.root, record, proof, 60, 0)).to.equal(record.status);
    });

    it("accepts a superseded root for maxAge after it was replaced, then refuses it", async () => {
      const { registry, publisher } = await loadFixture(current);
      await time.increase(600);
      await registry.connect(publisher).anchor(2, tree.root, root("next"), eventRoot, 1, EVENT_DATA);
      expect(await registry.verifyCurrentStatus(tree.root, record, proof, 60, 0)).to.equal(record.status);
      await time.increase(120);
      const replacedAt = (await registry.batchInfo(1)).supersededAt;
      await expect(registry.verifyCurrentStatus(tree.root, record, proof, 60, 0))
        .to.be.revertedWithCustomError(registry, "StatusRegistryRootTooOld")
        .withArgs(tree.root, replacedAt, 60);
      expect(await registry.verifyStatus(tree.root, record, proof)).to.equal(record.status); // the historical question still answers
    });

    it("refuses a root fewer witnesses attested than required, and a paused registry", async () => {
      const { registry, witness, admin } = await loadFixture(current);
      await expect(registry.verifyCurrentStatus(tree.root, record, proof, 60, 1))
        .to.be.revertedWithCustomError(registry, "StatusRegistryNotWitnessed")
        .withArgs(tree.root, 0, 1);
      await registry.connect(witness).attest(1, tree.root);
      expect(await registry.verifyCurrentStatus(tree.root, record, proof, 60, 1)).to.equal(record.status);
      await registry.connect(admin).pause();
      await expect(registry.verifyCurrentStatus(tree.root, record, proof, 60, 1)).to.be.revertedWithCustomError(registry, "EnforcedPause");
    });

    it("refuses a wrong proof as verifyStatus does", async () => {
      const { registry } = await loadFixture(current);
      await expect(registry.verifyCurrentStatus(tree.root, { ...record, status: 3 }, proof, 60, 0)).to.be.revertedWithCustomError(
        registry,
        "StatusRegistryProofMismatch",
      );
    });
  });

  describe("views", () => {
    it("refuses an unknown batch number", async () => {
      const { registry } = await anchored();
      await expect(registry.batchInfo(2)).to.be.revertedWithCustomError(registry, "StatusRegistryUnknownBatch").withArgs(2);
    });

    it("refuses an unknown root", async () => {
      const { registry } = await anchored();
      await expect(registry.rootInfo(root("never")))
        .to.be.revertedWithCustomError(registry, "StatusRegistryUnknownRoot")
        .withArgs(root("never"));
    });
  });

  describe("verifyStatus against the shared vectors", () => {
    for (const tree of vectors.statusTree.trees) {
      describe(tree.name, () => {
        const deployTree = async () => {
          const f = await deployWithRoles(tree.depth);
          const empty = vectors.statusTree.emptySubtrees[tree.depth];
          await f.registry.connect(f.publisher).anchor(1, empty, tree.root, eventRoot, tree.records.length, EVENT_DATA);
          return f;
        };

        it("accepts every proof, used and unused slots, and returns the proven status", async () => {
          const { registry } = await loadFixture(deployTree);
          for (const { record, proof } of tree.proofs) {
            expect(await registry.computeStatusRoot(record, proof)).to.equal(tree.root);
            expect(await registry.verifyStatus(tree.root, record, proof), `index ${record.index}`).to.equal(record.status);
          }
        });

        for (const bad of tree.invalid) {
          it(`rejects: ${bad.name}`, async () => {
            const { registry } = await loadFixture(deployTree);
            const call = registry.verifyStatus(tree.root, bad.record, bad.proof);
            await expectOutcome(registry, call, bad.outcome as InvalidOutcome, tree.root, tree.depth, bad.record, bad.proof);
          });
        }

        it("refuses a root that was never anchored", async () => {
          const { registry } = await loadFixture(deployTree);
          const { record, proof } = tree.proofs[0];
          await expect(registry.verifyStatus(root("never"), record, proof))
            .to.be.revertedWithCustomError(registry, "StatusRegistryUnknownRoot")
            .withArgs(root("never"));
        });
      });
    }
  });
});

async function expectOutcome(
  registry: Awaited<ReturnType<typeof deployWithRoles>>["registry"],
  call: Promise<unknown>,
  outcome: InvalidOutcome,
  treeRoot: string,
  depth: number,
  record: RefRecord,
  proof: string[],
) {
  const assertion = (error: string) => expect(call).to.be.revertedWithCustomError(registry, error);
  switch (outcome) {
    case "ROOT_MISMATCH":
      // the computed root the contract reports is the one the reference implementation computes
      return assertion("StatusRegistryProofMismatch").withArgs(treeRoot, refFold(record, proof));
    case "INVALID_PROOF_LENGTH":
      return assertion("StatusRegistryInvalidProofLength").withArgs(depth, proof.length);
    case "INDEX_OUT_OF_RANGE":
      return assertion("StatusRegistryIndexOutOfRange").withArgs(record.index, depth);
    case "INVALID_FIELD":
      return assertion("StatusRegistryMalformedRecord").withArgs(record.index);
  }
}
