import { deployDevRegistry, devAccount } from "../../scripts/embedded-chain";
import { tempDir } from "./tempRegistry";

/**
 * A fresh registry of `depth` on the node at `rpcUrl` with the dev roles, in a temporary directory,
 * and the service's settings over it (`settings` added; the service's data beside the deployment
 * record, port 0), as the end-to-end tests start it in process or as a child.
 */
export function devDeployment(rpcUrl: string, depth: number, settings: Record<string, string> = {}) {
  const temp = tempDir();
  const deployment = deployDevRegistry(rpcUrl, `${temp.dir}/deployment.json`, depth);
  const env: Record<string, string> = {
    RPC_URL: rpcUrl,
    REGISTRY_ADDRESS: deployment.address,
    PUBLISHER_KEY: devAccount(1).privateKey,
    DATA_DIR: `${temp.dir}/service`,
    PORT: "0",
    ...settings,
  };
  const domain = { chainId: BigInt(deployment.chainId), verifyingContract: deployment.address };
  return { temp, deployment, env, domain };
}
