import { expect } from "chai";
import { JsonRpcProvider, Wallet } from "ethers";
import { StatusRegistry__factory } from "../../typechain-types";
import { loadConfig } from "../../registry-service/src/service/config";
import { startService } from "../../registry-service/src/service/server";
import { devAccount, startEmbeddedChain } from "../../scripts/embedded-chain";
import { devDeployment } from "../support/devDeployment";
import { postOneIssue } from "../support/devices";
import { silentLog } from "../support/logs";
import { until } from "../support/polling";

/**
 * A consortium chain usually prices gas at zero (deploy/besu-qbft: zero base fee, min gas price 0):
 * its publisher key then needs no balance at all. On the consortium profile, a fresh key that never
 * held a wei anchors, heartbeats included, and still holds nothing.
 */
describe("zero gas price: a publisher key without any balance anchors on the consortium profile", function () {
  this.timeout(120_000);

  it("anchors with a key that holds no ether, and spends none", async () => {
    const chain = await startEmbeddedChain(0, 60_000, "consortium", { blockTime: 1 });
    const provider = new JsonRpcProvider(chain.rpcUrl, undefined, { cacheTimeout: -1 });
    const publisher = Wallet.createRandom();
    const { temp, deployment, env, domain } = devDeployment(chain.rpcUrl, 32, {
      BATCH_INTERVAL_MS: "200",
      PUBLISHER_KEY: publisher.privateKey,
    });
    const admin = StatusRegistry__factory.connect(deployment.address, devAccount(0).connect(provider));
    await (await admin.grantRole(await admin.PUBLISHER_ROLE(), publisher.address)).wait();
    expect(await provider.getBalance(publisher.address)).to.equal(0n);
    const service = await startService(loadConfig(env), silentLog());
    try {
      expect((await postOneIssue(service.url, domain)).status).to.equal(202);
      const latest = await until(
        () => admin.latestBatch(),
        (batch) => batch.batch === 1n,
        "batch 1 anchored by the key without balance",
      );
      const [anchored] = await admin.queryFilter(admin.filters.BatchAnchored(1));
      expect((await provider.getTransaction(anchored.transactionHash))!.from).to.equal(publisher.address);
      expect(latest.statusRoot).to.equal(anchored.args.statusRoot);
      expect(await provider.getBalance(publisher.address), "nothing spent: the gas price is zero").to.equal(0n);
    } finally {
      await service.close();
      provider.destroy();
      await chain.stop();
      temp.remove();
    }
  });
});
