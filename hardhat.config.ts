import path from "node:path";
import { subtask } from "hardhat/config";
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from "hardhat/builtin-tasks/task-names";
import type { HardhatUserConfig } from "hardhat/config";
import "@nomicfoundation/hardhat-ethers";
import "@nomicfoundation/hardhat-chai-matchers";
import "@typechain/hardhat";
import "./tasks/deploy";

const SOLC_VERSION = "0.8.28";
const SOLC_LONG_VERSION = "0.8.28+commit.7893614a";

// Hardhat downloads compilers from the internet, which this project's machines cannot reach.
// The npm package `solc` (pinned exactly) ships the same compiler as soljson.js: hand it over.
subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args: { solcVersion: string }, _hre, runSuper) => {
  if (args.solcVersion !== SOLC_VERSION) return runSuper();
  const solcPackage = path.dirname(require.resolve("solc/package.json"));
  const { version } = require("solc/package.json") as { version: string };
  if (version !== SOLC_VERSION) throw new Error(`npm package solc is ${version}, expected ${SOLC_VERSION}: run npm ci`);
  return {
    compilerPath: path.join(solcPackage, "soljson.js"),
    isSolcJs: true,
    version: SOLC_VERSION,
    longVersion: SOLC_LONG_VERSION,
  };
});

const config: HardhatUserConfig = {
  solidity: {
    version: SOLC_VERSION,
    settings: { optimizer: { enabled: true, runs: 10_000 }, evmVersion: "cancun" },
  },
  networks: {
    // Cancun pricing on the embedded chain: Prague's calldata floor (EIP-7623) and Osaka's 16.7M
    // per-transaction cap (EIP-7825) would limit an anchor's event data to about 400 kB; see docs/gas.md.
    hardhat: { hardfork: "cancun", blockGasLimit: 60_000_000 },
    localhost: { url: "http://127.0.0.1:8545" },
    chain: { url: process.env.RPC_URL ?? "http://127.0.0.1:8545" },
  },
  typechain: { outDir: "typechain-types", target: "ethers-v6" },
  mocha: { timeout: 120_000, reporter: path.join(__dirname, "test", "support", "summary-reporter.js") },
};

export default config;
