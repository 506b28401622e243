import { p256 } from "@noble/curves/p256";
import { concat, getAddress, sha256, toBeHex, toUtf8Bytes } from "ethers";
import { bytesToHex, hexToBytes, readUint, writeUint, type Hex } from "./bytes";
import type { RegistryDomain } from "./eip712";
import { EventKind, LOCK_GRANT_LENGTH, type Submission } from "./events";
import { compressedDeviceKey, deviceKeyHash, type DevicePublicKey } from "./identifiers";
import { CoreError } from "./errors";
import { TransitionError } from "./stateMachine";

/**
 * A phone's consent that one telecom operator may lock it (docs/spec.md 4.6): the wallet signs it
 * with the device key when it enrols with its operator, and the operator sends it with every
 * LOCK_DEVICE. Without it no operator can lock a device, however public its device-key hash.
 */
export interface LockGrant {
  /** the device's P-256 public key, SEC1 compressed (33 bytes): its hash is the deviceKeyHash it locks */
  devicePublicKey: Uint8Array;
  /** the operator's account (it signs the LOCK_DEVICE submission) */
  operator: Hex;
  /** unix seconds: a lock whose signed deadline is later is refused (a grant to a former operator runs out) */
  notAfter: number;
  /** ECDSA P-256 over SHA-256 of lockGrantMessage, r || s (64 bytes) */
  signature: Uint8Array;
}

export const LOCK_GRANT_TAG = "mobile-id/lock-grant/v1";

/** What the device signs: tag || chainId(32) || registry(20) || operator(20) || notAfter(8). */
export function lockGrantMessage(domain: RegistryDomain, operator: string, notAfter: number): Uint8Array {
  const until = new Uint8Array(8);
  writeUint(until, 0, 8, notAfter);
  return hexToBytes(
    concat([
      toUtf8Bytes(LOCK_GRANT_TAG),
      toBeHex(BigInt(domain.chainId), 32),
      hexToBytes(domain.verifyingContract, 20, "registry"),
      hexToBytes(operator, 20, "operator"),
      until,
    ]),
  );
}

export function encodeLockGrant(grant: LockGrant): Hex {
  const out = new Uint8Array(LOCK_GRANT_LENGTH);
  out.set(compressedDeviceKey(grant.devicePublicKey), 0);
  out.set(hexToBytes(grant.operator, 20, "operator"), 33);
  writeUint(out, 53, 8, grant.notAfter);
  out.set(hexToBytes(bytesToHex(grant.signature), 64, "grant signature"), 61);
  return bytesToHex(out);
}

export function decodeLockGrant(grant: Hex): LockGrant {
  const bytes = hexToBytes(grant, LOCK_GRANT_LENGTH, "grant");
  return {
    devicePublicKey: bytes.slice(0, 33),
    operator: getAddress(bytesToHex(bytes.subarray(33, 53))) as Hex,
    notAfter: readUint(bytes, 53, 8),
    signature: bytes.slice(61, 125),
  };
}

/** The wallet's side (and the tests'): a grant signed with the device's private P-256 key. */
export function signLockGrant(devicePrivateKey: Hex | Uint8Array, domain: RegistryDomain, operator: string, notAfter: number): Hex {
  const digest = hexToBytes(sha256(lockGrantMessage(domain, operator, notAfter)));
  const signature = p256.sign(digest, devicePrivateKey, { lowS: true }).toCompactRawBytes();
  const devicePublicKey = p256.getPublicKey(devicePrivateKey, true);
  return encodeLockGrant({ devicePublicKey, operator: getAddress(operator) as Hex, notAfter, signature });
}

/**
 * Checks a P-256 signature (r || s) over SHA-256 of `message` by a SEC1 compressed key: true when
 * it verifies. The core's is noble's; accel/ supplies OpenSSL's (native), for an audit's many locks.
 */
export type P256Verify = (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean;

/** noble's P-256 check, either s: a phone's secure element signs as it does; the grant is not an identifier, so malleability is harmless */
export const nobleP256Verify: P256Verify = (signature, message, publicKey) =>
  p256.verify(signature, hexToBytes(sha256(message)), publicKey, { lowS: false });

/** Why a grant does not let `operator` lock `device` with a submission signed until `deadline`; undefined when it does. */
export function lockGrantFault(
  domain: RegistryDomain,
  grantHex: Hex,
  lock: { deviceKeyHash: Hex; operator: Hex; deadline: number },
  verify: P256Verify = nobleP256Verify,
): string | undefined {
  const grant = decodeLockGrant(grantHex);
  if (deviceKeyHash(grant.devicePublicKey as DevicePublicKey) !== lock.deviceKeyHash.toLowerCase())
    return `the grant is for another device (its key hashes to ${deviceKeyHash(grant.devicePublicKey)})`;
  if (grant.operator.toLowerCase() !== lock.operator.toLowerCase())
    return `the device granted its lock to operator ${grant.operator}, not to ${getAddress(lock.operator)}`;
  if (lock.deadline > grant.notAfter) return `the grant ran out at ${grant.notAfter}, before the submission's deadline ${lock.deadline}`;
  if (!verify(grant.signature, lockGrantMessage(domain, grant.operator, grant.notAfter), grant.devicePublicKey))
    return "the device's signature on the grant does not verify";
  return undefined;
}

/**
 * Every LOCK_DEVICE of a submission must carry a grant from the device to the submission's signer
 * (docs/spec.md 4.6). Throws TransitionError LOCK_NOT_GRANTED naming the event. Intake and the audit
 * run it where they recover the signer (the grant check needs the registry's domain).
 */
export function checkLockGrants(
  domain: RegistryDomain,
  signer: Hex,
  submission: Pick<Submission, "events" | "deadline">,
  verify?: P256Verify,
): void {
  submission.events.forEach((event, i) => {
    if (event.kind !== EventKind.LockDevice) return;
    // a lock without any grant is malformed (INVALID_FIELD), not a refusal of the operator
    if (!event.grant || event.grant === "0x")
      throw new CoreError("INVALID_FIELD", `events[${i}]: a lock carries the device's grant (docs/spec.md 4.6)`);
    let fault: string | undefined;
    try {
      const lock = { deviceKeyHash: event.deviceKeyHash, operator: signer, deadline: submission.deadline };
      fault = lockGrantFault(domain, event.grant, lock, verify);
    } catch (error) {
      fault = `the grant is malformed: ${(error as Error).message}`;
    }
    if (fault) throw new TransitionError("LOCK_NOT_GRANTED", `no lock of device ${event.deviceKeyHash} by ${signer}: ${fault}`, i);
  });
}
