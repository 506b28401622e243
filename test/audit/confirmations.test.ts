import { expect } from "chai";
import hre from "hardhat";
import { startMirror } from "../../registry-service/src/mirror/mirror";
import { deployWithRoles } from "../support/fixtures";
import { ev, ScriptedPublisher } from "../support/scriptedPublisher";

describe("mirror with confirmations: a batch is replayed and served only once its anchor is that many blocks deep", () => {
  it("stays on the previous batch until the anchor is buried, then serves it", async () => {
    const roles = await deployWithRoles(16);
    const publisher = await ScriptedPublisher.create(roles.registry.connect(roles.publisher), 16);
    await publisher.anchor([await publisher.sign(roles.issuer, [ev.issue("alice", "alice phone")])]);
    const registry = publisher.domain.verifyingContract;
    const mirror = await startMirror({ provider: hre.ethers.provider, registry, port: 0, pollMs: 3_600_000, confirmations: 2 });
    try {
      expect(mirror.follower.replayer.batch, "the anchor is in the head block: a reorganisation could drop it").to.equal(0);
      await hre.network.provider.send("evm_mine");
      await mirror.sync();
      expect([mirror.follower.replayer.batch, mirror.follower.root]).to.deep.equal([1, publisher.tree.root]);
    } finally {
      await mirror.close();
    }
  });
});
