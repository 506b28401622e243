import secp256k1 from "secp256k1";
import { bytesToHex, hexToBytes, writeUint, type AnchorPayload, type Hasher, type Hex } from "../../core";

/** The fields of an EIP-1559 (type 2) transaction without an access list. */
export interface Eip1559Transaction {
  chainId: bigint;
  nonce: number;
  maxPriorityFeePerGas: bigint;
  maxFeePerGas: bigint;
  gasLimit: bigint;
  to: Hex;
  value: bigint;
  data: Uint8Array;
}

/**
 * Signs an EIP-1559 transaction without hex round trips (why: docs/performance.md): the RLP is
 * written straight into bytes, keccak is hash-wasm's and the signature libsecp256k1's (RFC 6979,
 * low s). The bytes are exactly what ethers signs (tested).
 */
export function signEip1559(hasher: Hasher, privateKey: Hex, tx: Eip1559Transaction): { raw: Uint8Array; hash: Hex } {
  const fields = [
    rlpInteger(tx.chainId),
    rlpInteger(BigInt(tx.nonce)),
    rlpInteger(tx.maxPriorityFeePerGas),
    rlpInteger(tx.maxFeePerGas),
    rlpInteger(tx.gasLimit),
    rlpString(hexToBytes(tx.to, 20, "to")),
    rlpInteger(tx.value),
    rlpString(tx.data),
    rlpList([]), // access list
  ];
  const unsigned = typed(rlpList(fields));
  const { signature, recid } = secp256k1.ecdsaSign(hasher.hash(unsigned), hexToBytes(privateKey, 32, "private key"));
  const raw = typed(
    rlpList([
      ...fields,
      rlpInteger(BigInt(recid)),
      rlpInteger(toBigInt(signature.subarray(0, 32))),
      rlpInteger(toBigInt(signature.subarray(32))),
    ]),
  );
  return { raw, hash: bytesToHex(hasher.hash(raw)) };
}

/** The calldata of StatusRegistry.anchor(uint64, bytes32, bytes32, bytes32, uint32, bytes), ABI-encoded into bytes. */
export function anchorCalldata(selector: Hex, record: AnchorPayload): Uint8Array {
  const data = hexToBytes(record.eventData);
  const head = 4 + 7 * 32; // selector, five static words, the offset of `eventData`, its length
  const out = new Uint8Array(head + Math.ceil(data.length / 32) * 32);
  out.set(hexToBytes(selector, 4, "selector"), 0);
  writeUint(out, 4 + 24, 8, record.batch);
  out.set(hexToBytes(record.previousRoot, 32, "previousRoot"), 36);
  out.set(hexToBytes(record.statusRoot, 32, "statusRoot"), 68);
  out.set(hexToBytes(record.eventRoot, 32, "eventRoot"), 100);
  writeUint(out, 132 + 28, 4, record.eventCount);
  writeUint(out, 164 + 24, 8, 6 * 32);
  writeUint(out, 196 + 24, 8, data.length);
  out.set(data, head);
  return out;
}

const typed = (payload: Uint8Array[]) => Buffer.concat([Uint8Array.of(2), ...payload]);

/** RLP of a byte string, as parts to concatenate. */
function rlpString(bytes: Uint8Array): Uint8Array[] {
  return bytes.length === 1 && bytes[0] < 0x80 ? [bytes] : [rlpLength(bytes.length, 0x80), bytes];
}

/** RLP of an unsigned integer: its minimal big-endian bytes (zero is the empty string). */
function rlpInteger(value: bigint): Uint8Array[] {
  return rlpString(minimalBytes(value));
}

function rlpList(items: Uint8Array[][]): Uint8Array[] {
  const parts = items.flat();
  return [
    rlpLength(
      parts.reduce((sum, part) => sum + part.length, 0),
      0xc0,
    ),
    ...parts,
  ];
}

function rlpLength(length: number, offset: number): Uint8Array {
  if (length < 56) return Uint8Array.of(offset + length);
  const bytes = minimalBytes(BigInt(length));
  return Uint8Array.of(offset + 55 + bytes.length, ...bytes);
}

function minimalBytes(value: bigint): Uint8Array {
  if (value === 0n) return new Uint8Array(0);
  const hex = value.toString(16);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, "hex");
}

function toBigInt(bytes: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(bytes).toString("hex")}`);
}
