import { bytesToHex, hexToBytes, isZero, readUint, writeUint, type Hex } from "./bytes";
import { CoreError } from "./errors";

/** Status of a slot. NONE is an unused slot; the values match the contract's enum. */
export enum Status {
  None = 0,
  Active = 1,
  Suspended = 2,
  Revoked = 3,
}

/** Why a credential is not active (docs/spec.md, "Reason codes"). */
export enum Reason {
  None = 0,
  LostDevice = 1,
  Superseded = 2,
  HolderRequest = 3,
  KeyCompromise = 4,
  Administrative = 5,
}

/** One leaf of the status tree (docs/spec.md, "Status record"). */
export interface StatusRecord {
  index: number;
  credentialCommitment: Hex;
  deviceKeyHash: Hex;
  status: Status;
  reason: Reason;
  /** batch that last changed this record */
  batch: number;
}

/** index(8) || credentialCommitment(32) || deviceKeyHash(32) || status(1) || reason(1) || batch(8) */
export const RECORD_LENGTH = 82;

const MAX_REASON = Reason.Administrative;

/** The record of a slot that was never issued. */
export function emptyRecord(index: number): StatusRecord {
  const zero = `0x${"00".repeat(32)}` as Hex;
  return { index, credentialCommitment: zero, deviceKeyHash: zero, status: Status.None, reason: Reason.None, batch: 0 };
}

export function isEmptyRecord(record: StatusRecord): boolean {
  return record.status === Status.None;
}

/** Where a record's deviceKeyHash sits in its encoding: index(8) || credentialCommitment(32) || deviceKeyHash(32) || ... */
export const RECORD_DEVICE_AT = 40;

/**
 * Canonical bytes of a used slot's record. An unused slot has no bytes: its leaf is EMPTY_LEAF.
 * Throws INVALID_FIELD for anything that would not round-trip through decodeRecord.
 */
export function encodeRecord(record: StatusRecord): Uint8Array {
  const { commitment, device } = checkedHashes(record);
  if (record.status === Status.None) {
    throw new CoreError("INVALID_FIELD", "an unused slot (status NONE) has no canonical encoding", { index: record.index });
  }
  const out = new Uint8Array(RECORD_LENGTH);
  writeUint(out, 0, 8, record.index);
  out.set(commitment, 8);
  out.set(device, RECORD_DEVICE_AT);
  out[72] = record.status;
  out[73] = record.reason;
  writeUint(out, 74, 8, record.batch);
  return out;
}

/** Strict inverse of encodeRecord: wrong length, unknown status or reason are MALFORMED_BYTES. */
export function decodeRecord(bytes: Uint8Array): StatusRecord {
  if (bytes.length !== RECORD_LENGTH) {
    throw new CoreError("MALFORMED_BYTES", `a status record is ${RECORD_LENGTH} bytes, got ${bytes.length}`);
  }
  const status = bytes[72];
  const reason = bytes[73];
  if (status < Status.Active || status > Status.Revoked) {
    throw new CoreError("MALFORMED_BYTES", `status byte ${status} is not ACTIVE(1), SUSPENDED(2) or REVOKED(3)`);
  }
  if (reason > MAX_REASON) throw new CoreError("MALFORMED_BYTES", `unknown reason code ${reason}`);
  return {
    index: readUint(bytes, 0, 8),
    credentialCommitment: bytesToHex(bytes.subarray(8, RECORD_DEVICE_AT)),
    deviceKeyHash: bytesToHex(bytes.subarray(RECORD_DEVICE_AT, RECORD_DEVICE_AT + 32)),
    status,
    reason,
    batch: readUint(bytes, 74, 8),
  };
}

/** Field-level checks shared by encoding and proof verification. */
export function checkRecord(record: StatusRecord): void {
  checkedHashes(record);
}

/** checkRecord, returning the two hashes it decoded (so that encoding decodes them once). */
function checkedHashes(record: StatusRecord): { commitment: Uint8Array; device: Uint8Array } {
  const fail = (message: string) => {
    throw new CoreError("INVALID_FIELD", message, { index: record.index });
  };
  checkNumbers(record, fail);
  const commitment = hexToBytes(record.credentialCommitment, 32, "credentialCommitment");
  const device = hexToBytes(record.deviceKeyHash, 32, "deviceKeyHash");
  if (record.status === Status.None && (!isZero(commitment) || !isZero(device) || record.reason !== 0 || record.batch !== 0)) {
    fail("a record with status NONE (unused slot) must have every field but index zero");
  }
  return { commitment, device };
}

function checkNumbers(record: StatusRecord, fail: (message: string) => void): void {
  const natural = (value: number) => Number.isSafeInteger(value) && value >= 0;
  if (!natural(record.index)) fail("index must be a non-negative safe integer");
  if (!natural(record.batch)) fail("batch must be a non-negative safe integer");
  if (!natural(record.status) || record.status > Status.Revoked) fail(`status ${record.status} is not NONE, ACTIVE, SUSPENDED or REVOKED`);
  if (!natural(record.reason) || record.reason > MAX_REASON) fail(`unknown reason code ${record.reason}`);
}
