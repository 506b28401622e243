import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { Presets, SingleBar } from "cli-progress";
import { isAddress, type JsonRpcProvider } from "ethers";
import type { JWK } from "jose";
import { connectRpc } from "../chain/read";
import { CliError, usageError } from "./errors";

/** Option and argument parsers: a bad value is commander's usage error (exit 2) naming the flag. */
export const integer = (name: string) => (value: string) => {
  if (!/^[0-9]+$/.test(value)) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  return Number(value);
};
export const hex32 = (name: string) => (value: string) => {
  if (!/^0x[0-9a-fA-F]{64}$/.test(value)) throw new InvalidArgumentError(`${name} must be 32 bytes of 0x-prefixed hex`);
  return value.toLowerCase();
};
export const address = (name: string) => (value: string) => {
  if (!/^0x[0-9a-fA-F]{40}$/.test(value)) throw new InvalidArgumentError(`${name} must be a 0x-prefixed 20-byte address`);
  return value;
};

/** The registry's chain: --rpc, --registry or --deployment. */
export function registryOptions(command: Command): Command {
  return command
    .addOption(new Option("--rpc <url>", "JSON-RPC URL of YOUR OWN chain node").env("RPC_URL").default("http://127.0.0.1:8545"))
    .addOption(new Option("--registry <address>", "StatusRegistry address").env("REGISTRY_ADDRESS"))
    .option("--deployment <file>", "read the registry address from a deployment record (deploy-registry's output)");
}

/** --confirmations (env CONFIRMATIONS, the service's setting): how many blocks deep an anchor must be before it counts. */
export const confirmationsOption = (description: string) =>
  new Option("--confirmations <n>", description).env("CONFIRMATIONS").argParser(integer("--confirmations")).default(1);

/** --json: one JSON document on stdout instead of text. */
export const jsonOption = (command: Command) => command.option("--json", "print one JSON document instead of text");

/** --rpc, --registry, --deployment and --json: what every chain-reading command takes. */
export const chainOptions = (command: Command): Command => jsonOption(registryOptions(command));

/** The registry address from --registry, REGISTRY_ADDRESS or a deployment record. */
/** The chain node at `rpc`; one that does not answer is UNREACHABLE with the way to name another. */
export async function connectChain(rpc: string): Promise<JsonRpcProvider> {
  try {
    return await connectRpc(rpc);
  } catch (error) {
    throw new CliError("UNREACHABLE", `${(error as Error).message} (name your chain node with --rpc <url> or RPC_URL)`);
  }
}

export function registryOf(options: { registry?: string; deployment?: string }): string {
  const address = options.registry ?? (options.deployment ? deploymentRecord(options.deployment).address : undefined);
  if (!address || !/^0x[0-9a-fA-F]{40}$/.test(address))
    throw usageError("give the registry: --registry 0x..., REGISTRY_ADDRESS, or --deployment <file>");
  if (!isAddress(address))
    throw usageError(
      `the registry address ${address} has mixed case that is not its EIP-55 checksum (a mistyped letter?): copy it again, or write it in lower case`,
    );
  return address;
}

/** The registry's chain id to pin a verifier to: --chain-id, CHAIN_ID, or the deployment record's. */
export function chainIdOf(options: { chainId?: string; deployment?: string }): string | undefined {
  const chainId = options.chainId ?? (options.deployment ? deploymentRecord(options.deployment).chainId : undefined);
  if (chainId !== undefined && !/^[0-9]+$/.test(String(chainId))) throw usageError(`the chain id must be a whole number, got ${chainId}`);
  return chainId === undefined ? undefined : String(chainId);
}

function deploymentRecord(file: string): { address?: string; chainId?: string } {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as { address?: string; chainId?: string };
  } catch (error) {
    throw usageError(`cannot read the deployment record ${file}: ${(error as Error).message}`);
  }
}

/** The package's version, from the nearest package.json above this file (sources and build sit at different depths). */
export function packageVersion(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, "package.json");
    if (existsSync(file)) return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
  }
  return "unknown";
}

/** A JWK file (--list-key): the issuer's list-signing public key, pinned by the verifier or auditor. */
export function listKeyOf(file: string): JWK {
  let jwk: JWK;
  try {
    jwk = JSON.parse(readFileSync(file, "utf8")) as JWK;
  } catch (error) {
    throw usageError(`cannot read the list key ${file}: ${(error as Error).message}`);
  }
  if (jwk.kty !== "EC" || jwk.crv !== "P-256")
    throw usageError(`the list key ${file} is not an EC P-256 JWK (the issuer's list-signing public key)`);
  const { kty, crv, x, y } = jwk;
  return { kty, crv, x, y }; // the public part only, should the file hold the private key
}

export const print = (json: boolean | undefined, value: unknown, text: string) => console.log(json ? JSON.stringify(value, null, 2) : text);

/** A progress bar on stderr when it is a terminal and the output is text; undefined otherwise. */
export function progressBar(show: boolean, format: string): SingleBar | undefined {
  if (!show || !process.stderr.isTTY) return undefined;
  return new SingleBar({ format, stream: process.stderr }, Presets.shades_classic);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The value `name` stands for in `table`, or a usage error listing the names it knows. */
export function named<T>(table: Record<string, T>, what: string, name: string): T {
  // the spec's spelling (LOST_DEVICE, CHIP_CARD) names the same as the CLI's (lost-device, chip-card)
  const key = name.trim().toLowerCase().replace(/_/g, "-");
  const value = Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined;
  if (value === undefined) throw usageError(`${what} "${name}" is not one of ${Object.keys(table).join(", ")}`);
  return value;
}
