import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { task, types } from "hardhat/config";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { StatusRegistry } from "../typechain-types";
import { MAX_DEPTH } from "../registry-service/src/core";

export interface DeployRegistryArgs {
  depth: number;
  admin?: string;
  publishers?: string;
  issuers?: string;
  operators?: string;
  witnesses?: string;
  /** seconds an admin transfer waits between its start and its acceptance */
  adminDelay?: number;
  out?: string;
  noRecord?: boolean;
  quiet?: boolean;
}

/** What a deployment leaves behind (deployments/<network>.json): enough to reconnect to it. */
export interface DeploymentRecord {
  network: string;
  chainId: string;
  address: string;
  depth: number;
  admin: string;
  /** seconds an admin transfer waits between its start and its acceptance (docs/runbook.md) */
  adminDelaySeconds: number;
  deployer: string;
  transactionHash: string;
  blockNumber: number;
  roles: { publishers: string[]; issuers: string[]; operators: string[]; witnesses: string[] };
  deployedAt: string;
}

export interface DeployResult {
  registry: StatusRegistry;
  record: DeploymentRecord;
}

/** Two days: a stolen admin key's transfer is seen and cancelled before it can be accepted. */
export const DEFAULT_ADMIN_DELAY_SECONDS = 2 * 86_400;

const list = (value: string | undefined) =>
  value
    ? value
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
    : [];

/**
 * Deploys StatusRegistry on whatever network Hardhat is pointed at, grants the listed roles, and
 * writes a deployment record. The tests' fixtures call this same function through the task.
 */
export async function deployRegistry(hre: HardhatRuntimeEnvironment, args: DeployRegistryArgs): Promise<DeployResult> {
  // the contract takes 1..64, but the service, SDK and audit address slots with JavaScript numbers
  if (!Number.isInteger(args.depth) || args.depth < 1 || args.depth > MAX_DEPTH) {
    throw new Error(`--depth must be 1..${MAX_DEPTH} (${2 ** MAX_DEPTH} slots at most), got ${args.depth}`);
  }
  const [deployer] = await hre.ethers.getSigners();
  const admin = args.admin ?? deployer.address;
  const roles = {
    publishers: list(args.publishers),
    issuers: list(args.issuers),
    operators: list(args.operators),
    witnesses: list(args.witnesses),
  };
  const adminDelay = args.adminDelay ?? DEFAULT_ADMIN_DELAY_SECONDS;
  if (!Number.isSafeInteger(adminDelay) || adminDelay < 0) throw new Error(`--admin-delay must be whole seconds, got ${adminDelay}`);
  const anyRoles = Object.values(roles).some((accounts) => accounts.length > 0);
  if (anyRoles && admin.toLowerCase() !== deployer.address.toLowerCase()) {
    throw new Error("roles can be granted at deployment only when the deployer is the admin");
  }
  const factory = await hre.ethers.getContractFactory("StatusRegistry", deployer);
  const registry = (await factory.deploy(admin, args.depth, adminDelay)) as unknown as StatusRegistry;
  const deployment = registry.deploymentTransaction()!;
  const receipt = (await deployment.wait())!;

  const grants: [string, string[]][] = [
    [await registry.PUBLISHER_ROLE(), roles.publishers],
    [await registry.ISSUER_ROLE(), roles.issuers],
    [await registry.OPERATOR_ROLE(), roles.operators],
    [await registry.WITNESS_ROLE(), roles.witnesses],
  ];
  for (const [role, accounts] of grants) {
    for (const account of accounts) await (await registry.grantRole(role, account)).wait();
  }

  const record: DeploymentRecord = {
    network: hre.network.name,
    chainId: (await hre.ethers.provider.getNetwork()).chainId.toString(),
    address: await registry.getAddress(),
    depth: args.depth,
    admin,
    adminDelaySeconds: adminDelay,
    deployer: deployer.address,
    transactionHash: receipt.hash,
    blockNumber: receipt.blockNumber,
    roles,
    deployedAt: new Date().toISOString(),
  };
  if (!args.noRecord) {
    const out = args.out || path.join(hre.config.paths.root, "deployments", `${hre.network.name}.json`);
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(record, null, 2) + "\n");
    if (!args.quiet) console.log(`deployment record: ${out}`);
  }
  if (!args.quiet) console.log(`StatusRegistry deployed at ${record.address} (chain ${record.chainId}, depth ${args.depth})`);
  return { registry, record };
}

task("deploy-registry", "Deploys the StatusRegistry and grants the initial roles")
  .addOptionalParam("depth", "status-tree depth (fixed for the deployment's life)", 32, types.int)
  .addOptionalParam("admin", "admin (consortium) address; defaults to the deployer")
  .addOptionalParam("publishers", "comma-separated addresses given PUBLISHER_ROLE")
  .addOptionalParam("issuers", "comma-separated addresses given ISSUER_ROLE")
  .addOptionalParam("operators", "comma-separated addresses given OPERATOR_ROLE (telecom operators)")
  .addOptionalParam("witnesses", "comma-separated addresses given WITNESS_ROLE (consortium members who attest roots)")
  .addOptionalParam("adminDelay", "seconds between starting an admin transfer and accepting it", DEFAULT_ADMIN_DELAY_SECONDS, types.int)
  .addOptionalParam("out", "where to write the deployment record (default deployments/<network>.json)")
  .addFlag("noRecord", "do not write a deployment record")
  .addFlag("quiet", "print nothing")
  .setAction(async (args: DeployRegistryArgs, hre) => deployRegistry(hre, args));
