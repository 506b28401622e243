import { CoreError } from "./errors";

/** 0x-prefixed lowercase hex, the interchange form of every byte string in the project. */
export type Hex = `0x${string}`;

export function hexToBytes(hex: string, expectedLength?: number, field = "value"): Uint8Array {
  // Buffer.from stops at the first character that is not hex, so a short result means a bad digit
  const bytes = typeof hex === "string" && hex.startsWith("0x") && hex.length % 2 === 0 ? Buffer.from(hex.slice(2), "hex") : undefined;
  if (!bytes || bytes.length * 2 !== hex.length - 2) {
    throw new CoreError("MALFORMED_HEX", `${field} must be 0x-prefixed hex with an even number of digits`, { field });
  }
  if (expectedLength !== undefined && bytes.length !== expectedLength) {
    throw new CoreError("MALFORMED_HEX", `${field} must be ${expectedLength} bytes, got ${bytes.length}`, { field });
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

export function bytesToHex(bytes: Uint8Array): Hex {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex")}`;
}

export const ZERO32: Hex = `0x${"00".repeat(32)}`;

export function isZero(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Big-endian unsigned integer of `width` bytes at `offset`; rejects values beyond 2^53. */
export function writeUint(target: Uint8Array, offset: number, width: number, value: number | bigint): void {
  let v = BigInt(value);
  for (let i = width - 1; i >= 0; i--) {
    target[offset + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

export function readUint(source: Uint8Array, offset: number, width: number): number {
  let v = 0;
  for (let i = 0; i < width; i++) v = v * 256 + source[offset + i];
  if (!Number.isSafeInteger(v)) {
    throw new CoreError("MALFORMED_BYTES", `integer at byte ${offset} exceeds 2^53`, { offset });
  }
  return v;
}
