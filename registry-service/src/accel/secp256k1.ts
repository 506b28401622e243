import secp256k1 from "secp256k1";
import type { PublicKeyRecovery } from "../core";

/** libsecp256k1's public-key recovery (native), for recoverSubmitter's fast path. */
export const nativePublicKeyRecovery: PublicKeyRecovery = (signature, recovery, digest) =>
  secp256k1.ecdsaRecover(signature, recovery, digest, false);
