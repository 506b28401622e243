import { Signature, TypedDataEncoder, id, recoverAddress, type TypedDataDomain, type TypedDataField } from "ethers";
import { bytesToHex, hexToBytes, writeUint, type Hex } from "./bytes";
import type { Hasher } from "./hasher";
import { CoreError } from "./errors";
import { checkEvent, type Submission, type SubmissionRequest } from "./events";

/** EIP-712 domain: binds every signature to one registry contract on one chain. */
export interface RegistryDomain {
  chainId: bigint | number;
  verifyingContract: string;
}

export const EIP712_NAME = "MobileIdStatusRegistry";
/** 2: the Submission carries a deadline; 3: events carry no holder handle */
export const EIP712_VERSION = "3";

export const SUBMISSION_TYPES: Record<string, TypedDataField[]> = {
  Submission: [
    { name: "nonce", type: "bytes32" },
    { name: "deadline", type: "uint64" },
    { name: "events", type: "Event[]" },
  ],
  Event: [
    { name: "kind", type: "uint8" },
    { name: "index", type: "uint64" },
    { name: "credentialCommitment", type: "bytes32" },
    { name: "deviceKeyHash", type: "bytes32" },
    { name: "channel", type: "uint8" },
    { name: "reason", type: "uint8" },
  ],
};

export function typedDataDomain(domain: RegistryDomain): TypedDataDomain {
  return { name: EIP712_NAME, version: EIP712_VERSION, chainId: domain.chainId, verifyingContract: domain.verifyingContract };
}

/** Anything that can sign typed data: an ethers Wallet, a JsonRpcSigner, an HSM adapter. */
export interface TypedDataSigner {
  signTypedData(domain: TypedDataDomain, types: Record<string, TypedDataField[]>, value: Record<string, unknown>): Promise<string>;
}

function typedValue({ nonce, deadline, events }: SubmissionRequest): Record<string, unknown> {
  // the grant authenticates itself and is not part of the signed type (docs/spec.md 4.6)
  return { nonce, deadline, events: events.map(({ grant: _grant, ...event }) => event) };
}

/** A deadline `seconds` from now, in the unix seconds the signed message carries. */
export function deadlineIn(seconds: number, nowMs = Date.now()): number {
  return Math.floor(nowMs / 1000) + seconds;
}

/**
 * The EIP-712 digest a submission's signature covers. With a Hasher it is computed here, word by
 * word (far faster for bulk submissions: docs/performance.md); without one, by ethers. Tests hold
 * the two equal.
 */
export function submissionDigest(domain: RegistryDomain, request: SubmissionRequest, hasher?: Hasher): Hex {
  if (!hasher) return TypedDataEncoder.hash(typedDataDomain(domain), SUBMISSION_TYPES, typedValue(request)) as Hex;
  const { nonce, deadline, events } = request;
  const typeHashes = (TYPE_HASHES ??= {
    event: hexToBytes(id(TypedDataEncoder.from({ Event: SUBMISSION_TYPES.Event }).encodeType("Event"))),
    submission: hexToBytes(id(TypedDataEncoder.from(SUBMISSION_TYPES).encodeType("Submission"))),
  });
  const word = new Uint8Array(7 * 32);
  word.set(typeHashes.event, 0);
  const eventHashes = new Uint8Array(events.length * 32);
  events.forEach((event, i) => {
    word.fill(0, 32);
    word[63] = event.kind;
    writeUint(word, 88, 8, event.index);
    word.set(hexToBytes(event.credentialCommitment, 32, "credentialCommitment"), 96);
    word.set(hexToBytes(event.deviceKeyHash, 32, "deviceKeyHash"), 128);
    word[191] = event.channel;
    word[223] = event.reason;
    eventHashes.set(hasher.hash(word), i * 32);
  });
  const struct = new Uint8Array(128);
  struct.set(typeHashes.submission, 0);
  struct.set(hexToBytes(nonce, 32, "nonce"), 32);
  writeUint(struct, 88, 8, deadline);
  struct.set(hasher.hash(eventHashes), 96);
  const envelope = new Uint8Array(66);
  envelope.set([0x19, 0x01], 0);
  envelope.set(domainSeparator(domain), 2);
  envelope.set(hasher.hash(struct), 34);
  return bytesToHex(hasher.hash(envelope));
}

let TYPE_HASHES: { event: Uint8Array; submission: Uint8Array } | undefined;
const SEPARATORS = new Map<string, Uint8Array>();

/**
 * The EIP-712 domain separator as hex: what a client sends as `domainHash` so that a signature for
 * another domain is answered DOMAIN_MISMATCH, not with a role error for the address it recovers to.
 */
export function domainHash(domain: RegistryDomain): Hex {
  return bytesToHex(domainSeparator(domain));
}

/** The domain separator, computed once per (chain, contract): ethers' encoder is slow per call. */
function domainSeparator(domain: RegistryDomain): Uint8Array {
  const cacheKey = `${domain.chainId}:${domain.verifyingContract.toLowerCase()}`;
  let separator = SEPARATORS.get(cacheKey);
  if (!separator) {
    separator = hexToBytes(TypedDataEncoder.hashDomain(typedDataDomain(domain)));
    SEPARATORS.set(cacheKey, separator);
  }
  return separator;
}

export async function signSubmission(signer: TypedDataSigner, domain: RegistryDomain, request: SubmissionRequest): Promise<Submission> {
  request.events.forEach((event, i) => checkEvent(event, `events[${i}]`));
  if (!Number.isSafeInteger(request.deadline) || request.deadline <= 0)
    throw new CoreError("INVALID_FIELD", `deadline must be a unix time in seconds, got ${request.deadline}`);
  const signature = await signer.signTypedData(typedDataDomain(domain), SUBMISSION_TYPES, typedValue(request));
  return { ...request, signature: Signature.from(signature).serialized as Hex };
}

/**
 * The signature with `v` written as 27 or 28: a signature may come with v 0/1, and is anchored the
 * way OpenZeppelin's ECDSA (and so any Solidity auditor) reads it (docs/spec.md 4.2).
 */
export function canonicalSignature(signature: Hex): Hex {
  const v = signature.slice(-2);
  return v === "00" || v === "01" ? ((signature.slice(0, -2) + (v === "00" ? "1b" : "1c")) as Hex) : signature;
}

/** Half the secp256k1 group order: signatures with a larger s are refused (EIP-2), as ethers does. */
const HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

/**
 * Recovers the signer's uncompressed public key (65 bytes) from a digest and a compact signature
 * (r || s) with its recovery id. The accel folder supplies libsecp256k1's (native); the core stays
 * free of native code so that a verifier's bundle never loads it.
 */
export type PublicKeyRecovery = (signature: Uint8Array, recovery: number, digest: Uint8Array) => Uint8Array;

/**
 * Address that signed the submission; INVALID_SIGNATURE if the bytes are not a signature. With a
 * Hasher, the digest is computed word by word; with a `recoverPublicKey` too, the key is recovered
 * by it (accel/'s libsecp256k1: what intake spends its time on, docs/performance.md). Every path
 * gives the same answer (tested).
 */
export function recoverSubmitter(
  domain: RegistryDomain,
  submission: Submission,
  hasher?: Hasher,
  recoverPublicKey?: PublicKeyRecovery,
): Hex {
  try {
    const digest = submissionDigest(domain, submission, hasher);
    if (!hasher || !recoverPublicKey) return recoverAddress(digest, submission.signature).toLowerCase() as Hex;
    const signature = hexToBytes(submission.signature, 65, "signature");
    const v = signature[64];
    const recovery = v >= 27 ? v - 27 : v;
    if (recovery > 1) throw new Error(`invalid v ${v}`);
    if (BigInt(bytesToHex(signature.subarray(32, 64))) > HALF_ORDER) throw new Error("non-canonical s");
    const publicKey = recoverPublicKey(signature.subarray(0, 64), recovery, hexToBytes(digest));
    return bytesToHex(hasher.hash(publicKey.subarray(1)).subarray(12));
  } catch (error) {
    throw new CoreError("INVALID_SIGNATURE", `submission ${submission.nonce}: ${(error as Error).message}`);
  }
}
