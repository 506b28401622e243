import { readFileSync } from "node:fs";
import { hexlify, randomBytes } from "ethers";
import { Channel, CoreError, decodeLockGrant, deviceKeyHash, Reason, type DevicePublicKey, type EcPublicJwk, type Hex } from "../../core";
import { usageError } from "../errors";

/** The names the CLI takes for channels and reasons (docs/spec.md 4.1), as the kebab-case words of the spec's names. */
export const CHANNELS: Record<string, Channel> = {
  "chip-card": Channel.ChipCard,
  "qr-code": Channel.QrCode,
  "online-portal": Channel.OnlinePortal,
};
export const REASONS: Record<string, Reason> = {
  "lost-device": Reason.LostDevice,
  "holder-request": Reason.HolderRequest,
  "key-compromise": Reason.KeyCompromise,
  administrative: Reason.Administrative,
};

export function indexValue(value: string | number, what = "index"): number {
  const text = String(value).trim();
  if (!/^[0-9]{1,15}$/.test(text)) throw usageError(`${what} must be a non-negative integer, got "${text}"`);
  return Number(text);
}

export function hash32(value: string, what: string): Hex {
  const text = value.trim();
  if (!/^0x[0-9a-fA-F]{64}$/.test(text)) throw usageError(`${what} must be 32 bytes of 0x-prefixed hex`);
  return text.toLowerCase() as Hex;
}

/**
 * A phone's lock grant (docs/spec.md 4.6), 125 bytes of hex inline or in a file (the hex, or the JSON
 * `mobile-id device grant --json` writes), with the device key hash it is for.
 */
export function grantValue(value: string): { grant: Hex; deviceKeyHash: Hex } {
  const text = value.trim();
  const inline = /^0x[0-9a-fA-F]{250}$/.test(text) ? text : undefined;
  const written = inline ?? readGrantFile(text);
  try {
    return { grant: written.toLowerCase() as Hex, deviceKeyHash: deviceKeyHash(decodeLockGrant(written as Hex).devicePublicKey) };
  } catch (error) {
    throw usageError(`grant: ${(error as Error).message}`);
  }
}

function readGrantFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8").trim();
  } catch {
    throw usageError(`grant: "${file}" is neither 125 bytes of 0x-prefixed hex nor a readable file`);
  }
  return text.startsWith("{") ? String((JSON.parse(text) as { grant?: unknown }).grant) : text;
}

/** A salt as given, or 32 fresh random bytes (the issuer puts it in the credential next to its index). */
export function saltValue(value: string | undefined): { salt: Hex; generated: boolean } {
  if (value === undefined || value.trim() === "") return { salt: hexlify(randomBytes(32)) as Hex, generated: true };
  return { salt: hash32(value, "salt"), generated: false };
}

/**
 * The device key hash of a phone's P-256 public key given as SEC1 hex (compressed or not, 0x
 * optional), as a JWK object, or as a file holding either (a wallet's key attestation gives a JWK).
 */
export function deviceKeyHashValue(value: string | object): Hex {
  try {
    if (typeof value === "object") return deviceKeyHash(value as EcPublicJwk);
    const text = value.trim();
    const key = inlineKey(text) ?? inlineKey(readDeviceKeyFile(text));
    if (!key) throw usageError(`device key: ${text} holds neither a JWK nor SEC1 hex`);
    return deviceKeyHash(key);
  } catch (error) {
    if (error instanceof CoreError || error instanceof SyntaxError) throw usageError(`device key: ${error.message}`);
    throw error;
  }
}

/** A key written out: SEC1 hex (0x optional) or a JWK's JSON; undefined when the text is neither (a file name). */
function inlineKey(text: string): DevicePublicKey | undefined {
  if (/^(0x)?[0-9a-fA-F]+$/.test(text)) return (text.startsWith("0x") ? text : `0x${text}`) as Hex;
  if (text.startsWith("{")) return JSON.parse(text) as EcPublicJwk;
  return undefined;
}

function readDeviceKeyFile(file: string): string {
  try {
    return readFileSync(file, "utf8").trim();
  } catch (error) {
    throw usageError(`device key: not SEC1 hex, and ${file} cannot be read as a key file: ${(error as Error).message}`);
  }
}
