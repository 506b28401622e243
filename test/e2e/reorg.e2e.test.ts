import { expect } from "chai";
import { JsonRpcProvider } from "ethers";
import { StatusRegistry__factory } from "../../typechain-types";
import { Status } from "../../registry-service/src/core";
import { loadConfig } from "../../registry-service/src/service/config";
import { startService } from "../../registry-service/src/service/server";
import { startEmbeddedChain } from "../../scripts/embedded-chain";
import { devDeployment } from "../support/devDeployment";
import { postOneIssue } from "../support/devices";
import { silentLog } from "../support/logs";
import { until } from "../support/polling";
import { expectChainReplays } from "../support/replay";

type StatusView = { anchored: { record: { status: number }; anchor: { batch: number; statusRoot: string } } };

/**
 * A chain that can reorganise (QBFT cannot; others can): with CONFIRMATIONS=3 on the consortium
 * profile, the block holding an anchor is taken back (evm_revert to a snapshot taken before it)
 * while the anchor waits for its confirmations.
 */
describe("a reorganisation drops an anchor before its confirmations (consortium profile, CONFIRMATIONS=3)", function () {
  this.timeout(180_000);

  it("serves nothing of the unconfirmed batch, sends the same batch again, and the chain ends with one anchor for it", async () => {
    const chain = await startEmbeddedChain(0, 60_000, "consortium", { blockTime: 1 });
    const provider = new JsonRpcProvider(chain.rpcUrl, undefined, { cacheTimeout: -1 });
    const { temp, deployment, env, domain } = devDeployment(chain.rpcUrl, 32, { BATCH_INTERVAL_MS: "200", CONFIRMATIONS: "3" });
    const service = await startService(loadConfig(env), silentLog());
    try {
      const registry = StatusRegistry__factory.connect(deployment.address, provider);
      const status = async () => (await (await fetch(`${service.url}/v1/status/0`)).json()) as StatusView;
      const snapshot = (await provider.send("evm_snapshot", [])) as string;
      expect((await postOneIssue(service.url, domain)).status).to.equal(202);

      // the anchor of batch 1 is in a block, not yet confirmed: the service still serves batch 0
      const [mined] = await until(
        () => registry.queryFilter(registry.filters.BatchAnchored(1)),
        (logs) => logs.length > 0,
        "batch 1 mined",
      );
      expect((await status()).anchored.anchor.batch, "an unconfirmed root is not served as anchored").to.equal(0);
      const dropped = (await provider.getTransaction(mined.transactionHash))!;
      expect(await provider.send("evm_revert", [snapshot])).to.equal(true);
      expect(await provider.getTransactionReceipt(mined.transactionHash), "the reorganisation took the anchor away").to.equal(null);
      expect((await status()).anchored.anchor.batch).to.equal(0);

      // the anchorer finds its transaction gone and sends batch 1 again; the view moves only once it is confirmed
      const view = await until(status, (s) => s.anchored.anchor.batch === 1, "batch 1 anchored again and confirmed");
      const latest = await registry.latestBatch();
      expect([Number(latest.batch), latest.statusRoot]).to.deep.equal([1, view.anchored.anchor.statusRoot]);
      expect(view.anchored.record.status).to.equal(Status.Active);
      const again = await registry.queryFilter(registry.filters.BatchAnchored(1));
      expect(again, "one anchor of batch 1 on the chain").to.have.length(1);
      expect((await provider.getTransaction(again[0].transactionHash))!.data, "the same anchor bytes").to.equal(dropped.data);
      expect((await provider.getBlockNumber()) - again[0].blockNumber + 1).to.be.at.least(3);
      await expectChainReplays(provider, deployment.address);
    } finally {
      await service.close();
      provider.destroy();
      await chain.stop();
      temp.remove();
    }
  });
});
