import { p256 } from "@noble/curves/p256";
import { concat, decodeBase64, keccak256, toUtf8Bytes } from "ethers";
import { hexToBytes, type Hex } from "./bytes";
import { CoreError } from "./errors";

/**
 * How issuer, operator and verifier derive the same identifier bytes for the same phone, person and
 * credential (docs/spec.md 4.5). Each is keccak256 over a fixed ASCII tag, fixed-length parts, and
 * at most one variable-length part, last: the framing is unambiguous without length prefixes, and
 * one tag per identifier keeps a value of one kind from ever passing for another.
 */
export const IDENTIFIER_TAGS = {
  deviceKey: "mobile-id/device-key/v1",
  credential: "mobile-id/credential/v1",
  holder: "mobile-id/holder-ref/v1",
} as const;

/** A P-256 public key as a JWK (what SD-JWT VC `cnf.jwk` and a wallet's key attestation carry). */
export interface EcPublicJwk {
  kty: "EC";
  crv: "P-256";
  x: string;
  y: string;
}

/** A device public key in any of the encodings a party meets: SEC1 bytes (33 compressed or 65 uncompressed), as hex, or a JWK. */
export type DevicePublicKey = Uint8Array | Hex | EcPublicJwk;

/**
 * The SEC1 compressed form (33 bytes) of a P-256 public key, whatever its encoding. A key that is
 * not a point of P-256 (another curve's key, a typo) is refused rather than hashed into an
 * identifier nobody else computes.
 */
export function compressedDeviceKey(key: DevicePublicKey): Uint8Array {
  const bytes = typeof key === "string" ? hexToBytes(key, undefined, "device public key") : key instanceof Uint8Array ? key : jwkBytes(key);
  try {
    return p256.ProjectivePoint.fromHex(bytes).toRawBytes(true);
  } catch (error) {
    throw new CoreError("INVALID_FIELD", `the device public key is not a P-256 point (${(error as Error).message})`);
  }
}

/** deviceKeyHash = keccak256(tag || SEC1 compressed P-256 public key): what ISSUE, REISSUE and LOCK_DEVICE carry. */
export function deviceKeyHash(key: DevicePublicKey): Hex {
  return keccak256(concat([toUtf8Bytes(IDENTIFIER_TAGS.deviceKey), compressedDeviceKey(key)])) as Hex;
}

/**
 * credentialCommitment = keccak256(tag || salt(32) || UTF-8 credential id): binds the status record
 * to one credential (its document number or `jti`). The salt travels in the credential, so a
 * verifier holding it recomputes the commitment; a chain reader cannot test guessed document numbers.
 */
export function credentialCommitment(credentialId: string, salt: Hex): Hex {
  const id = toUtf8Bytes(credentialId.normalize("NFC"));
  if (id.length === 0 || id.length > 256) throw new CoreError("INVALID_FIELD", "a credential id is 1 to 256 bytes of UTF-8");
  return keccak256(concat([toUtf8Bytes(IDENTIFIER_TAGS.credential), hexToBytes(salt, 32, "salt"), id])) as Hex;
}

/**
 * holderRef = keccak256(tag || issuer's holder key(32) || normalised national id): the issuer's own
 * handle for a person, in its register only; it never goes on chain. Keyed (keccak is not open to
 * length extension, so key-then-message is a MAC), so a leaked register cannot be reversed by
 * trying every national id number.
 */
export function holderRef(issuerHolderKey: Hex, nationalId: string): Hex {
  return keccak256(
    concat([toUtf8Bytes(IDENTIFIER_TAGS.holder), hexToBytes(issuerHolderKey, 32, "issuer holder key"), normalisedId(nationalId)]),
  ) as Hex;
}

/** A national id as written anywhere ("900101-1234567", "900101 1234567"): separators dropped, letters upper-cased, ASCII only. */
function normalisedId(nationalId: string): Uint8Array {
  const id = nationalId.replace(/[\s.\-/]/g, "").toUpperCase();
  if (!/^[0-9A-Z]{1,64}$/.test(id))
    throw new CoreError("INVALID_FIELD", "a national id is 1 to 64 letters and digits (spaces, dots, hyphens and slashes are ignored)");
  return toUtf8Bytes(id);
}

function jwkBytes(jwk: EcPublicJwk): Uint8Array {
  if (jwk.kty !== "EC" || jwk.crv !== "P-256")
    throw new CoreError("INVALID_FIELD", `the device key must be an EC P-256 JWK, got ${jwk.kty}/${jwk.crv}`);
  const coordinate = (name: "x" | "y") => {
    const value = decodeBase64(jwk[name].replace(/-/g, "+").replace(/_/g, "/"));
    if (value.length !== 32) throw new CoreError("INVALID_FIELD", `the JWK's ${name} must be 32 bytes, got ${value.length}`);
    return value;
  };
  const uncompressed = new Uint8Array(65);
  uncompressed[0] = 4;
  uncompressed.set(coordinate("x"), 1);
  uncompressed.set(coordinate("y"), 33);
  return uncompressed;
}
