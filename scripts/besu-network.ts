/**
 * The Besu QBFT network definition's derived values (deploy/besu-qbft/RUNBOOK.md): each node's
 * address and enode URL from its public key, and the genesis extraData naming the validators.
 * Run: npx ts-node scripts/besu-network.ts [deploy/besu-qbft] (prints them; changes no file).
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { decodeRlp, encodeRlp, getAddress, keccak256, ZeroHash } from "ethers";

export const BESU_DIR = path.join(__dirname, "..", "deploy", "besu-qbft");

/** The account address of an uncompressed secp256k1 public key (64 bytes, hex, with or without 0x04). */
export function nodeAddress(publicKey: string): string {
  const bare = publicKey
    .trim()
    .replace(/^0x/, "")
    .replace(/^04(?=[0-9a-f]{128}$)/i, "");
  if (!/^[0-9a-fA-F]{128}$/.test(bare)) throw new Error(`not a 64-byte public key: ${publicKey.slice(0, 20)}...`);
  return getAddress(`0x${keccak256(`0x${bare}`).slice(-40)}`);
}

/** QBFT's genesis extraData: RLP([32-byte vanity, validators, no vote, round 0, no seals]). */
export function qbftExtraData(validators: string[]): string {
  return encodeRlp([ZeroHash, validators.map((v) => getAddress(v)), [], "0x", []]);
}

/** The validators a QBFT extraData names. */
export function extraDataValidators(extraData: string): string[] {
  const [, validators] = decodeRlp(extraData) as [string, string[]];
  return validators.map((v) => getAddress(v));
}

/** Each node of the definition (nodes/<name>/key.pub) with its address and enode URL (container name as host). */
export function networkNodes(dir = BESU_DIR) {
  return readdirSync(path.join(dir, "nodes"), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map(({ name }) => {
      const publicKey = readFileSync(path.join(dir, "nodes", name, "key.pub"), "utf8")
        .trim()
        .replace(/^0x/, "");
      return { name, address: nodeAddress(publicKey), enode: `enode://${publicKey}@${name}:30303` };
    });
}

if (require.main === module) {
  const nodes = networkNodes(process.argv[2] ?? BESU_DIR);
  for (const node of nodes) console.log(`${node.name}  ${node.address}\n  ${node.enode}`);
  const validators = nodes.filter((node) => node.name.startsWith("validator")).map((node) => node.address);
  console.log(`extraData (validators ${validators.join(", ")}):\n${qbftExtraData(validators)}`);
}
