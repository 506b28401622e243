/**
 * npm start: the embedded chain (Hardhat's node on 127.0.0.1:8545), a fresh registry with the dev
 * roles, and the registry service on 127.0.0.1:8080 with its LevelDB under ./data.
 * The embedded chain lives in memory, so its service data is reset at every start.
 */
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { deployDevRegistry, devAccount, startEmbeddedChain } from "./embedded-chain";
import { loadConfig } from "../registry-service/src/service/config";
import { startService } from "../registry-service/src/service/server";

const ROOT = path.join(__dirname, "..");
const DATA = path.join(ROOT, "data", "embedded");

async function main() {
  const chain = await startEmbeddedChain(Number(process.env.CHAIN_PORT ?? 8545));
  try {
    rmSync(DATA, { recursive: true, force: true });
    mkdirSync(DATA, { recursive: true });
    const deployment = deployDevRegistry(chain.rpcUrl, path.join(DATA, "deployment.json"));
    const config = loadConfig({
      ...process.env,
      RPC_URL: chain.rpcUrl,
      REGISTRY_ADDRESS: deployment.address,
      PUBLISHER_KEY: devAccount(1).privateKey,
      DATA_DIR: path.join(DATA, "service"),
    });
    const service = await startService(config);
    console.log(`
embedded chain    ${chain.rpcUrl} (chain id ${deployment.chainId})
StatusRegistry    ${deployment.address} (tree depth ${deployment.depth})
dev roles         publisher ${devAccount(1).address}
                  issuer    ${devAccount(2).address}
                  operator  ${devAccount(3).address}
registry-service  ${service.url}/v1
OpenAPI docs      ${service.url}/docs
metrics           ${service.url}/metrics
data              ${DATA}

Ctrl-C stops the service and the chain.`);
    const shutdown = async () => {
      await service.close();
      await chain.stop();
      process.exit(0);
    };
    process.once("SIGINT", shutdown);
    process.once("SIGTERM", shutdown);
  } catch (error) {
    await chain.stop();
    throw error;
  }
}

main().catch((error) => {
  console.error(`start failed: ${(error as Error).message}`);
  process.exit(1);
});
