import type { Hex } from "./bytes";
import { CoreError } from "./errors";
import { Status } from "./record";

// The standard status lists published from the anchored state (docs/spec.md 7): the IETF Token
// Status List (draft-ietf-oauth-status-list-20) and the W3C Bitstring Status List v1.0. Bytes in,
// bytes out: the compression (zlib, gzip) is passed in by the layers around the core.

/** Indexes per published list: the W3C minimum (131,072 = 2^17); list n covers [n * LIST_SIZE, (n + 1) * LIST_SIZE). */
export const LIST_SIZE = 131_072;

/** Bits per entry of the Token Status List. */
export const TOKEN_STATUS_BITS = 2;

/**
 * Token Status List values (draft section 7): 0 VALID, 1 INVALID (revoked), 2 SUSPENDED, and 3, the
 * draft's application-specific value, for an index no credential holds as of the anchor (NOT_ISSUED).
 */
export enum TokenStatus {
  Valid = 0,
  Invalid = 1,
  Suspended = 2,
  NotIssued = 3,
}

/** The Token Status List value of a record's status. */
export function tokenStatus(status: Status): TokenStatus {
  if (status === Status.Active) return TokenStatus.Valid;
  if (status === Status.Suspended) return TokenStatus.Suspended;
  if (status === Status.Revoked) return TokenStatus.Invalid;
  return TokenStatus.NotIssued;
}

/** The W3C status purposes published: one bitstring each. */
export type BitstringPurpose = "revocation" | "suspension";
export const BITSTRING_PURPOSES: readonly BitstringPurpose[] = ["revocation", "suspension"];

/**
 * The W3C bit of a record's status for `purpose`: revocation is set for REVOKED, suspension for
 * SUSPENDED and for an index not issued yet (suspension is the reversible purpose: it clears on issuance).
 */
export function bitstringBit(status: Status, purpose: BitstringPurpose): boolean {
  return purpose === "revocation" ? status === Status.Revoked : status === Status.Suspended || status === Status.None;
}

/** Which list holds `index`, and where in it. */
export function listPosition(index: number): { list: number; position: number } {
  if (!Number.isSafeInteger(index) || index < 0) throw new CoreError("INDEX_OUT_OF_RANGE", `index ${index} is not a status index`);
  return { list: Math.floor(index / LIST_SIZE), position: index % LIST_SIZE };
}

type Bits = 1 | 2 | 4 | 8;

function checkBits(bits: number): asserts bits is Bits {
  if (![1, 2, 4, 8].includes(bits)) throw new CoreError("INVALID_FIELD", `bits must be 1, 2, 4 or 8, got ${bits}`);
}

/**
 * Writes `value` at `position` of a Token Status List byte array: entries of `bits` bits, packed from
 * the least significant bit of each byte (draft section 4.1).
 */
export function setTokenStatus(bytes: Uint8Array, bits: number, position: number, value: number): void {
  checkBits(bits);
  const perByte = 8 / bits;
  const shift = (position % perByte) * bits;
  const mask = ((1 << bits) - 1) << shift;
  const at = Math.floor(position / perByte);
  bytes[at] = (bytes[at] & ~mask) | ((value << shift) & mask);
}

/** The value at `position` of a Token Status List byte array; INDEX_OUT_OF_RANGE past its end. */
export function getTokenStatus(bytes: Uint8Array, bits: number, position: number): number {
  checkBits(bits);
  const perByte = 8 / bits;
  const at = Math.floor(position / perByte);
  if (!Number.isSafeInteger(position) || position < 0 || at >= bytes.length)
    throw new CoreError("INDEX_OUT_OF_RANGE", `position ${position} is outside a list of ${bytes.length * perByte} entries`);
  return (bytes[at] >> ((position % perByte) * bits)) & ((1 << bits) - 1);
}

/** Packs `values` into a Token Status List byte array of `bits` per entry. */
export function packTokenStatuses(values: ArrayLike<number>, bits: number): Uint8Array {
  checkBits(bits);
  const bytes = new Uint8Array(Math.ceil((values.length * bits) / 8));
  for (let i = 0; i < values.length; i++) setTokenStatus(bytes, bits, i, values[i]);
  return bytes;
}

/** Sets bit `position` of a W3C bitstring: position 0 is the most significant bit of the first byte. */
export function setBitstringBit(bytes: Uint8Array, position: number, on: boolean): void {
  const mask = 0x80 >> (position % 8);
  const at = Math.floor(position / 8);
  bytes[at] = on ? bytes[at] | mask : bytes[at] & ~mask;
}

/** Bit `position` of a W3C bitstring; INDEX_OUT_OF_RANGE past its end. */
export function getBitstringBit(bytes: Uint8Array, position: number): boolean {
  if (!Number.isSafeInteger(position) || position < 0 || position >= bytes.length * 8)
    throw new CoreError("INDEX_OUT_OF_RANGE", `position ${position} is outside a bitstring of ${bytes.length * 8} bits`);
  return (bytes[Math.floor(position / 8)] & (0x80 >> (position % 8))) !== 0;
}

/**
 * One list's entries in every published form, kept up to date record by record (so that a batch
 * re-encodes only the lists it touched). A fresh chunk holds no issued index.
 */
export class ListChunk {
  readonly token = new Uint8Array((LIST_SIZE * TOKEN_STATUS_BITS) / 8).fill(0xff); // NOT_ISSUED is 0b11
  readonly revocation = new Uint8Array(LIST_SIZE / 8);
  readonly suspension = new Uint8Array(LIST_SIZE / 8).fill(0xff);

  set(position: number, status: Status): void {
    setTokenStatus(this.token, TOKEN_STATUS_BITS, position, tokenStatus(status));
    setBitstringBit(this.revocation, position, bitstringBit(status, "revocation"));
    setBitstringBit(this.suspension, position, bitstringBit(status, "suspension"));
  }

  bitstring(purpose: BitstringPurpose): Uint8Array {
    return purpose === "revocation" ? this.revocation : this.suspension;
  }
}

/** base64url without padding (RFC 7515 section 2). */
export const base64url = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");

/** Strict inverse of base64url: MALFORMED_BYTES for any other character or padding. */
export function fromBase64url(text: string): Uint8Array {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1)
    throw new CoreError("MALFORMED_BYTES", "not base64url (A-Z a-z 0-9 - _, no padding)");
  return new Uint8Array(Buffer.from(text, "base64url"));
}

/** A W3C encodedList: multibase base64url (prefix "u") of the GZIP-compressed bitstring. */
export const encodedList = (gzipped: Uint8Array): string => `u${base64url(gzipped)}`;

export function fromEncodedList(text: string): Uint8Array {
  if (typeof text !== "string" || !text.startsWith("u")) throw new CoreError("MALFORMED_BYTES", 'encodedList must start with "u"');
  return fromBase64url(text.slice(1));
}

/** The anchor a list derives from: every list names it, and a verifier checks it on its own chain node. */
export interface ListAnchor {
  batch: number;
  statusRoot: Hex;
  /** the anchoring transaction (null: batch 0, the empty tree recorded at deployment) */
  transactionHash: Hex | null;
  blockNumber: number | null;
  registry: Hex;
  chainId: number;
}

/** When a list was signed and how long it may be used (seconds since the epoch, and a duration). */
export interface ListTimes {
  iat: number;
  exp: number;
  ttl: number;
}

/** The claims of a Status List Token in JWT form (draft section 5.1), with the anchor as a private claim. */
export function statusListClaims(uri: string, lst: Uint8Array, times: ListTimes, anchor: ListAnchor) {
  return { sub: uri, ...times, status_list: { bits: TOKEN_STATUS_BITS, lst: base64url(lst) }, anchor };
}
export type StatusListClaims = ReturnType<typeof statusListClaims>;

/** CWT claim keys of a Status List Token (draft section 5.2); "anchor" is a private text key. */
export const CWT_CLAIM = { sub: 2, exp: 4, iat: 6, statusList: 65533, ttl: 65534 } as const;

/**
 * A BitstringStatusListCredential (W3C v1.0 section 2.2), unsigned; it is secured as a VC-JOSE JWT
 * (its payload is this credential). `ttl` is in milliseconds there.
 */
export function bitstringCredential(
  uri: string,
  issuer: string,
  purpose: BitstringPurpose,
  gzipped: Uint8Array,
  times: ListTimes,
  anchor: ListAnchor,
) {
  const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
  return {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    id: uri,
    type: ["VerifiableCredential", "BitstringStatusListCredential"],
    issuer,
    validFrom: iso(times.iat),
    validUntil: iso(times.exp),
    credentialSubject: {
      id: `${uri}#list`,
      type: "BitstringStatusList",
      statusPurpose: purpose,
      encodedList: encodedList(gzipped),
      ttl: times.ttl * 1000,
    },
    anchor,
  };
}
export type BitstringCredential = ReturnType<typeof bitstringCredential>;
