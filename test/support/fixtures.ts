import hre from "hardhat";
import type { DeployResult } from "../../tasks/deploy";

/** Deploys through the same task a real deployment uses, with the test accounts in every role. */
export async function deployWithRoles(depth: number) {
  const [admin, publisher, issuer, operator, stranger] = await hre.ethers.getSigners();
  const { registry, record } = (await hre.run("deploy-registry", {
    depth,
    publishers: publisher.address,
    issuers: issuer.address,
    operators: operator.address,
    noRecord: true,
    quiet: true,
  })) as DeployResult;
  return { registry, record, admin, publisher, issuer, operator, stranger };
}
