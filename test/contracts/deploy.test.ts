import { expect } from "chai";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import hre from "hardhat";
import type { DeployResult, DeploymentRecord } from "../../tasks/deploy";

describe("deploy-registry task", () => {
  it("deploys, grants the listed roles and writes a record that reconnects to the contract", async () => {
    const [deployer, publisher, issuer, operator] = await hre.ethers.getSigners();
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), "deploy-")), "record.json");
    const { registry } = (await hre.run("deploy-registry", {
      depth: 20,
      publishers: publisher.address,
      issuers: issuer.address,
      operators: operator.address,
      out,
      quiet: true,
    })) as DeployResult;

    const record = JSON.parse(readFileSync(out, "utf8")) as DeploymentRecord;
    expect(record.address).to.equal(await registry.getAddress());
    expect(record).to.include({ network: "hardhat", chainId: "31337", depth: 20, admin: deployer.address });
    expect(record.roles).to.deep.equal({
      publishers: [publisher.address],
      issuers: [issuer.address],
      operators: [operator.address],
      witnesses: [],
    });
    const tx = await hre.ethers.provider.getTransactionReceipt(record.transactionHash);
    expect(tx?.contractAddress).to.equal(record.address);

    const reconnected = await hre.ethers.getContractAt("StatusRegistry", record.address);
    expect(await reconnected.treeDepth()).to.equal(20);
    expect(await reconnected.hasRole(await reconnected.OPERATOR_ROLE(), operator.address)).to.equal(true);
  });

  it("refuses to grant roles when another account is the admin", async () => {
    const [, , , , consortium, publisher] = await hre.ethers.getSigners();
    const attempt = hre.run("deploy-registry", {
      depth: 8,
      admin: consortium.address,
      publishers: publisher.address,
      noRecord: true,
      quiet: true,
    });
    const error = await attempt.then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).to.match(/only when the deployer is the admin/);
  });

  for (const depth of [0, 53, 64]) {
    it(`refuses depth ${depth}, which the service, SDK and audit cannot address`, async () => {
      const error = await hre.run("deploy-registry", { depth, noRecord: true, quiet: true }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.message).to.match(/--depth must be 1\.\.52/);
    });
  }
});
