/**
 * npm start: the embedded chain with a freshly deployed registry and development roles.
 * (The registry service joins this command when it lands; see the README.)
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { HDNodeWallet } from "ethers";
import { startEmbeddedChain } from "./embedded-chain";

const DEV_MNEMONIC = "test test test test test test test test test test test junk";
const devAccount = (n: number) => HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, `m/44'/60'/0'/0/${n}`).address;
const ROOT = path.join(__dirname, "..");
const PORT = Number(process.env.CHAIN_PORT ?? 8545);

async function main() {
  const chain = await startEmbeddedChain(PORT);
  const shutdown = async () => {
    await chain.stop();
    process.exit(0);
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);

  const [publisher, issuer, operator] = [1, 2, 3].map(devAccount);
  const out = path.join(ROOT, "data", "deployment.json");
  const deploy = spawnSync(
    process.execPath,
    [require.resolve("hardhat/internal/cli/cli"), "deploy-registry", "--network", "localhost", "--publishers", publisher, "--issuers", issuer, "--operators", operator, "--out", out],
    { cwd: ROOT, stdio: "inherit", env: { ...process.env } },
  );
  if (deploy.status !== 0) {
    await chain.stop();
    throw new Error("deploying the registry failed");
  }
  const record = JSON.parse(readFileSync(out, "utf8"));
  console.log(`\nembedded chain   ${chain.rpcUrl} (chain id ${record.chainId})`);
  console.log(`StatusRegistry   ${record.address} (tree depth ${record.depth})`);
  console.log(`dev roles        publisher ${publisher}\n                 issuer    ${issuer}\n                 operator  ${operator}`);
  console.log("\nCtrl-C stops the chain.");
}

main().catch((error) => {
  console.error(`start failed: ${error.message}`);
  process.exit(1);
});
