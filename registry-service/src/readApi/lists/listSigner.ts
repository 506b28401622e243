import { createPrivateKey, createPublicKey, sign, type JsonWebKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import cbor from "cbor";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK } from "jose";
import { CWT_CLAIM, type StatusListClaims } from "../../core";

/** CBOR as the draft's examples write it: definite maps, plain byte strings, no record extension. */
/** Bytes as a CBOR byte string: the library writes a Buffer so, a bare Uint8Array as a tagged typed array. */
const cborBytes = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** COSE_Sign1_Tagged (RFC 9052 section 4.2) and ES256's COSE algorithm id. */
const COSE_SIGN1_TAG = 18;
const ES256 = -7;

/** The issuer's list-signing key (ES256, P-256): signs every published list as a JWT and the token lists as CWTs. */
export class ListSigner {
  private constructor(
    private readonly privateKey: KeyObject,
    /** the public key as a JWK, with its kid (the RFC 7638 thumbprint) and alg */
    readonly publicJwk: JWK,
  ) {}

  get kid(): string {
    return this.publicJwk.kid!;
  }

  /** From a private P-256 JWK (as a file holds it); throws a message naming what is wrong. */
  static async fromJwk(jwk: JWK): Promise<ListSigner> {
    if (jwk.kty !== "EC" || jwk.crv !== "P-256" || typeof jwk.d !== "string")
      throw new Error("the list-signing key must be a private EC P-256 JWK (kty EC, crv P-256, with d)");
    const privateKey = createPrivateKey({ key: jwk as JsonWebKey, format: "jwk" });
    const { kty, crv, x, y } = createPublicKey(privateKey).export({ format: "jwk" }) as JWK;
    const publicJwk = { kty, crv, x, y };
    return new ListSigner(privateKey, { ...publicJwk, kid: await calculateJwkThumbprint(publicJwk), alg: "ES256", use: "sig" });
  }

  /** From a JWK file (LIST_SIGNING_KEY). */
  static async fromFile(file: string): Promise<ListSigner> {
    let jwk: JWK;
    try {
      jwk = JSON.parse(readFileSync(file, "utf8")) as JWK;
    } catch (error) {
      throw new Error(`cannot read the list-signing key ${file}: ${(error as Error).message}`);
    }
    return ListSigner.fromJwk(jwk);
  }

  /** A fresh key's private JWK (npm start's dev key, tests). */
  static async generateJwk(): Promise<JWK> {
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    return exportJWK(privateKey);
  }

  /** A compact JWS over `payload` with the header's `typ` (and `cty`), ES256 under this key's kid. */
  jwt(payload: object, typ: string, cty?: string): Promise<string> {
    return new SignJWT(payload as Record<string, unknown>)
      .setProtectedHeader({ alg: "ES256", kid: this.kid, typ, ...(cty ? { cty } : {}) })
      .sign(this.privateKey);
  }

  /** A Status List Token as a CWT: COSE_Sign1_Tagged, ES256, type application/statuslist+cwt (draft section 5.2). */
  cwt(claims: StatusListClaims, lst: Uint8Array): Uint8Array {
    const payload = cbor.encode(
      new Map<number | string, unknown>([
        [CWT_CLAIM.sub, claims.sub],
        [CWT_CLAIM.iat, claims.iat],
        [CWT_CLAIM.exp, claims.exp],
        [CWT_CLAIM.ttl, claims.ttl],
        [
          CWT_CLAIM.statusList,
          new Map<string, unknown>([
            ["bits", claims.status_list.bits],
            ["lst", cborBytes(lst)],
          ]),
        ],
        ["anchor", new Map(Object.entries(claims.anchor))],
      ]),
    );
    const protectedHeader = cbor.encode(
      new Map<number, unknown>([
        [1, ES256],
        [16, "application/statuslist+cwt"],
      ]),
    );
    const toBeSigned = cbor.encode(["Signature1", protectedHeader, Buffer.alloc(0), payload]);
    const signature = sign("sha256", toBeSigned, { key: this.privateKey, dsaEncoding: "ieee-p1363" });
    const unprotected = new Map([[4, Buffer.from(this.kid)]]);
    return cbor.encode(new cbor.Tagged(COSE_SIGN1_TAG, [protectedHeader, unprotected, payload, signature]));
  }
}
