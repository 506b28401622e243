import { createPublicKey, verify } from "node:crypto";
import { nobleP256Verify, type P256Verify } from "../core";

/** The DER header of a P-256 SubjectPublicKeyInfo holding a 33-byte compressed point. */
const SPKI_COMPRESSED_P256 = Buffer.from("3039301306072a8648ce3d020106082a8648ce3d030107032200", "hex");
const DER_SEQUENCE = 0x30;

/**
 * OpenSSL's P-256 check (native, about twenty times noble's), for an audit's lost-phone locks. Gives
 * noble's answer on every input (tested): a key that is not a point fails to verify, and a signature
 * that could be read as DER, which noble tries first, is left to noble.
 */
export const nativeP256Verify: P256Verify = (signature, message, publicKey) => {
  if (signature[0] === DER_SEQUENCE || signature.length !== 64) return nobleP256Verify(signature, message, publicKey);
  let key;
  try {
    key = createPublicKey({ key: Buffer.concat([SPKI_COMPRESSED_P256, publicKey]), format: "der", type: "spki" });
  } catch {
    return false;
  }
  return publicKey.length === 33 && verify("sha256", message, { key, dsaEncoding: "ieee-p1363" }, signature);
};
