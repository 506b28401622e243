import { Signature, TypedDataEncoder, recoverAddress, type TypedDataDomain, type TypedDataField } from "ethers";
import type { Hex } from "./bytes";
import { CoreError } from "./errors";
import { checkEvent, type StatusEvent, type Submission } from "./events";

/** EIP-712 domain: binds every signature to one registry contract on one chain. */
export interface RegistryDomain {
  chainId: bigint | number;
  verifyingContract: string;
}

export const EIP712_NAME = "MobileIdStatusRegistry";
export const EIP712_VERSION = "1";

export const SUBMISSION_TYPES: Record<string, TypedDataField[]> = {
  Submission: [
    { name: "nonce", type: "bytes32" },
    { name: "events", type: "Event[]" },
  ],
  Event: [
    { name: "kind", type: "uint8" },
    { name: "index", type: "uint64" },
    { name: "holderRef", type: "bytes32" },
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

function typedValue(nonce: Hex, events: readonly StatusEvent[]): Record<string, unknown> {
  return { nonce, events: events.map((event) => ({ ...event })) };
}

/** The EIP-712 digest a submission's signature covers. */
export function submissionDigest(domain: RegistryDomain, nonce: Hex, events: readonly StatusEvent[]): Hex {
  return TypedDataEncoder.hash(typedDataDomain(domain), SUBMISSION_TYPES, typedValue(nonce, events)) as Hex;
}

export async function signSubmission(
  signer: TypedDataSigner,
  domain: RegistryDomain,
  nonce: Hex,
  events: StatusEvent[],
): Promise<Submission> {
  events.forEach((event, i) => checkEvent(event, `events[${i}]`));
  const signature = await signer.signTypedData(typedDataDomain(domain), SUBMISSION_TYPES, typedValue(nonce, events));
  return { nonce, events, signature: Signature.from(signature).serialized as Hex };
}

/** Address that signed the submission; INVALID_SIGNATURE if the bytes are not a signature. */
export function recoverSubmitter(domain: RegistryDomain, submission: Submission): Hex {
  try {
    const digest = submissionDigest(domain, submission.nonce, submission.events);
    return recoverAddress(digest, submission.signature).toLowerCase() as Hex;
  } catch (error) {
    throw new CoreError("INVALID_SIGNATURE", `submission ${submission.nonce}: ${(error as Error).message}`);
  }
}
