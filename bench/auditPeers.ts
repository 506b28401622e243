/** The limits an audit is held against, measured in the same run: keccak on one core, key recovery, a grant's P-256 check. */
import { generateKeyPairSync, sign } from "node:crypto";
import secp256k1 from "secp256k1";
import { Hasher } from "../registry-service/src/core";
import { nativeP256Verify, nativePublicKeyRecovery } from "../registry-service/src/accel";

export interface Peers {
  /** hash-wasm keccak-256 calls per second on 64-byte inputs (a tree node), one core */
  keccakPerSecond: number;
  /** libsecp256k1 public-key recoveries per second (one per submission) */
  recoveriesPerSecond: number;
  /** OpenSSL P-256 verifications per second, key parsing included (one per lost-phone lock) */
  p256PerSecond: number;
}

/** Calls per second of `fn`, run for about `ms` milliseconds. */
function rate(fn: () => void, ms = 500): number {
  let calls = 0;
  const started = performance.now();
  while (performance.now() - started < ms) {
    for (let i = 0; i < 100; i++) fn();
    calls += 100;
  }
  return calls / ((performance.now() - started) / 1000);
}

export async function measurePeers(): Promise<Peers> {
  const hasher = await Hasher.create();
  const node = new Uint8Array(64).fill(7);
  const digest = hasher.hash(node);
  const { signature, recid } = secp256k1.ecdsaSign(digest, hasher.hash(new Uint8Array([1])));
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const { x, y } = publicKey.export({ format: "jwk" });
  const compressed = new Uint8Array([Buffer.from(y!, "base64url").at(-1)! & 1 ? 3 : 2, ...Buffer.from(x!, "base64url")]);
  const message = new Uint8Array(100).fill(3);
  const grantSignature = sign("sha256", message, { key: privateKey, dsaEncoding: "ieee-p1363" });
  if (!nativeP256Verify(grantSignature, message, compressed)) throw new Error("the P-256 peer does not verify its own signature");
  return {
    keccakPerSecond: rate(() => hasher.hash(node)),
    recoveriesPerSecond: rate(() => nativePublicKeyRecovery(signature, recid, digest), 300),
    p256PerSecond: rate(() => nativeP256Verify(grantSignature, message, compressed), 300),
  };
}
