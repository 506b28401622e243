import { expect } from "chai";
import hre from "hardhat";
import { id } from "ethers";
import { blankEvent, Channel, EventKind, Hasher, recoverSubmitter, signSubmission, type Hex } from "../../registry-service/src/core";
import { Anchorer, AnchorError, type AnchorChain } from "../../registry-service/src/batching/anchorer";
import { EthersAnchorChain } from "../../registry-service/src/batching/chainClient";
import type { RegistryStore } from "../../registry-service/src/storage/registryStore";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { readTreeSnapshot, writeTreeSnapshot } from "../../registry-service/src/storage/treeSnapshot";
import { tempStore } from "../support/tempStore";
import { deployWithRoles } from "../support/fixtures";

const DEPTH = 20;
const h = (label: string) => id(label) as Hex;

/** A chain whose anchor() dies before or after sending, as a killed process would. */
function crashing(real: AnchorChain, when: "before sending" | "after mining"): AnchorChain {
  return {
    latestBatch: () => real.latestBatch(),
    batchRoot: (batch) => real.batchRoot(batch),
    findAnchor: (batch) => real.findAnchor(batch),
    anchor: async (record) => {
      if (when === "after mining") await real.anchor(record);
      throw new Error(`simulated crash ${when}`);
    },
  };
}

describe("Anchorer: crash at any point, restart, end equal to the chain", () => {
  let temp: Awaited<ReturnType<typeof tempStore>>;
  let store: RegistryStore;
  let hasher: Hasher;

  beforeEach(async () => {
    temp = await tempStore();
    store = temp.store;
    hasher = await Hasher.create();
  });
  afterEach(() => temp.remove());

  async function setup() {
    const f = await deployWithRoles(DEPTH);
    const chain = new EthersAnchorChain(f.registry.connect(f.publisher));
    const domain = { chainId: (await hre.ethers.provider.getNetwork()).chainId, verifyingContract: await f.registry.getAddress() };
    const issueOne = async (n: number) => {
      const events = [
        {
          ...blankEvent(EventKind.Issue),
          holderRef: h(`holder ${n}`),
          credentialCommitment: h(`c ${n}`),
          deviceKeyHash: h(`device ${n}`),
          channel: Channel.ChipCard,
        },
      ];
      const submission = await signSubmission(f.issuer, domain, h(`nonce ${n}`), events);
      await store.accept(recoverSubmitter(domain, submission), { issuer: true, operator: false }, submission);
    };
    const restart = async (with_: AnchorChain = chain) => {
      store = await temp.reopen();
      return Anchorer.open(store, hasher, DEPTH, with_);
    };
    const anchorLogs = async () => (await f.registry.queryFilter(f.registry.filters.BatchAnchored())).length;
    return { ...f, chain, issueOne, restart, anchorLogs };
  }

  it("sends a recorded batch after a crash before its transaction, with the same content", async () => {
    const { chain, issueOne, restart, registry, anchorLogs } = await setup();
    await issueOne(1);
    const dying = await Anchorer.open(store, hasher, DEPTH, crashing(chain, "before sending"));
    await dying.step().then(
      () => expect.fail("should have crashed"),
      (e: Error) => expect(e.message).to.match(/before sending/),
    );
    const recorded = (await store.batchRecord(1))!;
    expect(recorded.state).to.equal("prepared");
    expect(await anchorLogs()).to.equal(0);

    const anchorer = await restart();
    expect(anchorer.tree.root, "proofs are served against the anchored root meanwhile").to.equal(recorded.previousRoot);
    const settled = (await anchorer.step())!;
    expect(settled).to.deep.include({ ...recorded, state: "anchored" });
    expect((await registry.latestBatch()).statusRoot).to.equal(recorded.statusRoot);
    expect(anchorer.tree.root).to.equal(recorded.statusRoot);
  });

  it("marks a batch anchored after a crash between mining and recording it, without sending twice", async () => {
    const { chain, issueOne, restart, registry, anchorLogs } = await setup();
    await issueOne(1);
    const dying = await Anchorer.open(store, hasher, DEPTH, crashing(chain, "after mining"));
    await dying.step().then(
      () => expect.fail("should have crashed"),
      (e: Error) => expect(e.message).to.match(/after mining/),
    );
    expect((await store.batchRecord(1))!.state).to.equal("prepared");
    expect(await anchorLogs()).to.equal(1);

    const settled = (await (await restart()).step())!;
    expect(settled.state).to.equal("anchored");
    expect(settled.transactionHash).to.equal((await registry.queryFilter(registry.filters.BatchAnchored(1)))[0].transactionHash);
    expect(await anchorLogs()).to.equal(1);
  });

  it("keeps accepting while a batch is in flight: the next batch carries what came after the cut", async () => {
    const { chain, issueOne, restart } = await setup();
    await issueOne(1);
    const dying = await Anchorer.open(store, hasher, DEPTH, crashing(chain, "before sending"));
    await dying.step().catch(() => undefined);
    await issueOne(2); // accepted after the cut: joins batch 2
    const anchorer = await restart();
    expect((await anchorer.step())!.batch).to.equal(1);
    const second = (await anchorer.step())!;
    expect([second.batch, second.eventCount, second.state]).to.deep.equal([2, 1, "anchored"]);
    expect(await anchorer.step()).to.equal(undefined);
  });

  it("stops with CHAIN_DIVERGED when the chain holds a batch this service did not prepare", async () => {
    const { chain, issueOne, registry, publisher } = await setup();
    await issueOne(1);
    const genesis = (await registry.latestBatch()).statusRoot;
    await registry.connect(publisher).anchor(1, genesis, h("a rogue root"), h("events"), 1, "0x01");
    const anchorer = await Anchorer.open(store, hasher, DEPTH, chain);
    const error = await anchorer.step().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(AnchorError);
    expect((error as AnchorError).code).to.equal("CHAIN_DIVERGED");
    expect((await store.batchRecord(1))!.state).to.equal("prepared");
  });

  it("rebuilds its tree from the journal on restart, equal to the chain's root", async () => {
    const { chain, issueOne, restart, registry } = await setup();
    const anchorer = await Anchorer.open(store, hasher, DEPTH, chain);
    for (const n of [1, 2, 3]) {
      await issueOne(n);
      await anchorer.step();
    }
    const reopened = await restart();
    expect(reopened.tree.root).to.equal((await registry.latestBatch()).statusRoot);
    expect(reopened.tree.size).to.equal(3);
  });

  it("restores its tree from a snapshot of an earlier anchored batch, ignores one that does not fit, survives a corrupt file", async () => {
    const { chain, issueOne, registry } = await setup();
    const file = path.join(temp.dir, "tree.snapshot");
    const anchorer = await Anchorer.open(store, hasher, DEPTH, chain);
    for (const n of [1, 2, 3]) {
      await issueOne(n);
      await anchorer.step();
      if (n === 1) await writeTreeSnapshot(file, 1, anchorer.tree);
    }
    const chainRoot = (await registry.latestBatch()).statusRoot;
    store = await temp.reopen();

    const snapshot = (await readTreeSnapshot(file, hasher))!;
    expect(snapshot.batch).to.equal(1);
    const restored = await Anchorer.open(store, hasher, DEPTH, chain, undefined, snapshot);
    expect(restored.tree, "the snapshot's tree was caught up, not rebuilt").to.equal(snapshot.tree);
    expect(restored.tree.root).to.equal(chainRoot);
    expect(restored.tree.size).to.equal(3);

    const mislabelled = { batch: 2, tree: (await readTreeSnapshot(file, hasher))!.tree }; // batch 1's tree claiming batch 2
    const rebuilt = await Anchorer.open(store, hasher, DEPTH, chain, undefined, mislabelled);
    expect(rebuilt.tree).to.not.equal(mislabelled.tree);
    expect(rebuilt.tree.root).to.equal(chainRoot);

    const bytes = await readFile(file);
    bytes[bytes.length - 40] ^= 1;
    await writeFile(file, bytes);
    expect(await readTreeSnapshot(file, hasher), "a corrupt snapshot is no snapshot").to.equal(undefined);
    expect(await readTreeSnapshot(path.join(temp.dir, "none"), hasher)).to.equal(undefined);
  });
});
