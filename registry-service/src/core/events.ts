import { bytesEqual, bytesToHex, hexToBytes, isZero, readUint, writeUint, ZERO32, type Hex } from "./bytes";
import { CoreError } from "./errors";
import type { Hasher } from "./hasher";
import { decodeRecord, encodeRecord, Reason, RECORD_LENGTH, type StatusRecord } from "./record";

/** What a submitter may ask for (docs/spec.md, "Events"). Values are the wire bytes. */
export enum EventKind {
  Issue = 1,
  Suspend = 2,
  Reinstate = 3,
  Revoke = 4,
  /** a telecom operator's lost-device lock: suspends whatever credential the device carries */
  LockDevice = 5,
  /** a new credential on a new device for the holder of credential `index`, which it supersedes */
  Reissue = 6,
}

/** What the registry did; Supersede is the revocation a Reissue causes for the credential it names. */
export enum AppliedKind {
  Issue = 1,
  Suspend = 2,
  Reinstate = 3,
  Revoke = 4,
  LockDevice = 5,
  Supersede = 6,
}

/** How a credential was issued. */
export enum Channel {
  None = 0,
  ChipCard = 1,
  QrCode = 2,
  OnlinePortal = 3,
}

/**
 * One requested status change, in the single shape the EIP-712 type uses; fields a kind does not
 * use must be zero (checked by checkEvent). Hex fields are 32 bytes.
 */
export interface StatusEvent {
  kind: EventKind;
  index: number;
  credentialCommitment: Hex;
  deviceKeyHash: Hex;
  channel: Channel;
  reason: Reason;
  /**
   * LOCK_DEVICE only: the device's grant of its lock to the operator (lockGrant.ts, 125 bytes);
   * "0x" for every other kind. Outside the EIP-712 type: it authenticates itself (docs/spec.md 4.6).
   */
  grant: Hex;
}

/** devicePublicKey(33) || operator(20) || notAfter(8) || signature(64): a LOCK_DEVICE's grant (lockGrant.ts) */
export const LOCK_GRANT_LENGTH = 125;

/** What a submitter signs: a nonce, a deadline and the events (docs/spec.md 4.2). */
export interface SubmissionRequest {
  nonce: Hex;
  /** unix time in seconds: the submission must be anchored in a block no later than this */
  deadline: number;
  events: StatusEvent[];
}

/** A signed request: one signature over a nonce, a deadline and all its events. */
export interface Submission extends SubmissionRequest {
  /** 65-byte r || s || v signature over the EIP-712 Submission */
  signature: Hex;
}

/**
 * A submission as the service accepted it and the anchor carries it: with its intake block, the
 * chain block at which the service checked its signer's role (the audit checks the role there).
 */
export interface AcceptedSubmission extends Submission {
  intakeBlock: number;
}

/** One leaf of a batch's event tree: what changed, why, and on whose signed word. */
export interface AppliedEvent {
  position: number;
  kind: AppliedKind;
  signer: Hex;
  nonce: Hex;
  record: StatusRecord;
}

export const SUSPEND_REASONS: readonly Reason[] = [Reason.LostDevice, Reason.HolderRequest, Reason.KeyCompromise, Reason.Administrative];
export const REVOKE_REASONS: readonly Reason[] = [Reason.LostDevice, Reason.HolderRequest, Reason.KeyCompromise, Reason.Administrative];

/** Fields each kind carries on the wire, in order. */
const LAYOUT: Record<EventKind, readonly (keyof StatusEvent)[]> = {
  [EventKind.Issue]: ["credentialCommitment", "deviceKeyHash", "channel"],
  [EventKind.Suspend]: ["index", "reason"],
  // the reason of the suspension it lifts: a lock that came in since cannot be lifted unseen
  [EventKind.Reinstate]: ["index", "reason"],
  [EventKind.Revoke]: ["index", "reason"],
  // the device's own consent that this operator may lock it: only its operator can (docs/spec.md 4.6)
  [EventKind.LockDevice]: ["deviceKeyHash", "grant"],
  // the credential it supersedes, named: no holder handle goes on chain (docs/spec.md 4.5)
  [EventKind.Reissue]: ["index", "credentialCommitment", "deviceKeyHash", "channel"],
};
const WIDTH: Record<keyof StatusEvent, number> = {
  kind: 1,
  index: 8,
  credentialCommitment: 32,
  deviceKeyHash: 32,
  channel: 1,
  reason: 1,
  grant: LOCK_GRANT_LENGTH,
};
const HASH_FIELDS = new Set<keyof StatusEvent>(["credentialCommitment", "deviceKeyHash"]);

export function blankEvent(kind: EventKind): StatusEvent {
  return {
    kind,
    index: 0,
    credentialCommitment: ZERO32,
    deviceKeyHash: ZERO32,
    channel: Channel.None,
    reason: Reason.None,
    grant: "0x",
  };
}

/** Throws INVALID_FIELD unless the event is well formed for its kind (zeros where unused). */
export function checkEvent(event: StatusEvent, where = "event"): void {
  checkedHashes(event, where);
}

/** checkEvent, returning the used hash fields it decoded (so that encoding decodes them once). */
function checkedHashes(event: StatusEvent, where: string): Partial<Record<keyof StatusEvent, Uint8Array>> {
  const hashes: Partial<Record<keyof StatusEvent, Uint8Array>> = {};
  const fail = (message: string): never => {
    throw new CoreError("INVALID_FIELD", `${where}: ${message}`);
  };
  const layout = LAYOUT[event.kind as EventKind];
  if (!layout) fail(`unknown kind ${event.kind}`);
  for (const field of Object.keys(WIDTH) as (keyof StatusEvent)[]) {
    if (field === "kind") continue;
    const used = layout.includes(field);
    if (field === "grant") hashes.grant = checkedGrant(event.grant, used, where, fail);
    else if (HASH_FIELDS.has(field)) hashes[field] = checkedHash(event[field] as Hex, used, where, field, fail);
    else checkNumber(event[field], used, field, fail);
  }
  checkCodes(event, fail);
  return hashes;
}

/** A hash field: 32 bytes, non-zero where the kind uses it, zero where it does not. Returns its bytes when used. */
function checkedHash(value: Hex, used: boolean, where: string, field: string, fail: (message: string) => never): Uint8Array | undefined {
  // an unused field is almost always the zero constant itself: no need to decode it
  const bytes = value === ZERO32 ? undefined : hexToBytes(value, 32, `${where}.${field}`);
  const zero = !bytes || isZero(bytes);
  if (used && zero) fail(`${field} must not be zero`);
  if (!used && !zero) fail(`${field} must be zero for this kind`);
  return used ? bytes : undefined;
}

/** A grant: its bytes where the kind carries one, "0x" where it does not. */
function checkedGrant(value: Hex | undefined, used: boolean, where: string, fail: (message: string) => never): Uint8Array | undefined {
  if (!used) return value === undefined || value === "0x" ? undefined : fail("grant must be 0x for this kind");
  if (typeof value !== "string") return fail("grant is required: the device's grant of its lock to this operator");
  return hexToBytes(value, LOCK_GRANT_LENGTH, `${where}.grant`);
}

function checkNumber(value: unknown, used: boolean, field: string, fail: (message: string) => never): void {
  if (!Number.isSafeInteger(value) || (value as number) < 0) fail(`${field} must be a non-negative integer`);
  if (!used && value !== 0) fail(`${field} must be 0 for this kind`);
}

/** True for the kinds that bind a new credential to a device (an issuance or a re-issue). */
export function isIssuance(kind: EventKind): boolean {
  return kind === EventKind.Issue || kind === EventKind.Reissue;
}

/** Kinds that take the priority lane: they only ever take an ID out of use. */
const PRIORITY_KINDS = new Set([EventKind.Suspend, EventKind.Revoke, EventKind.LockDevice]);

/** True when every event suspends, locks or revokes: such a submission takes the priority lane (docs/spec.md 5.1). */
export function isPriority(events: readonly Pick<StatusEvent, "kind">[]): boolean {
  return events.every((event) => PRIORITY_KINDS.has(event.kind));
}

/** Applied events one requested event of `kind` makes: a re-issue two (the SUPERSEDE of the index it names, then the ISSUE), any other one. */
export function appliedEventCount(kind: EventKind): number {
  return kind === EventKind.Reissue ? 2 : 1;
}

/** The channel of an issuance and the reason of a suspension or revocation must be ones the spec names. */
function checkCodes(event: StatusEvent, fail: (message: string) => never): void {
  if (isIssuance(event.kind) && (event.channel < Channel.ChipCard || event.channel > Channel.OnlinePortal)) {
    fail(`channel ${event.channel} is not CHIP_CARD(1), QR_CODE(2) or ONLINE_PORTAL(3)`);
  }
  if (event.kind === EventKind.Suspend && !SUSPEND_REASONS.includes(event.reason))
    fail(`reason ${event.reason} is not a suspension reason`);
  if (event.kind === EventKind.Revoke && !REVOKE_REASONS.includes(event.reason)) fail(`reason ${event.reason} is not a revocation reason`);
}

/**
 * True when two submissions ask for the same thing: the same nonce, deadline and events, field for
 * field (what the signature covers; the signature bytes themselves may differ between signers).
 */
export function sameRequest(a: SubmissionRequest, b: SubmissionRequest): boolean {
  if (a.nonce.toLowerCase() !== b.nonce.toLowerCase() || a.deadline !== b.deadline || a.events.length !== b.events.length) return false;
  return a.events.every((event, i) => bytesEqual(encodeEvent(event), encodeEvent(b.events[i])));
}

export function encodedEventLength(kind: EventKind): number {
  return 1 + LAYOUT[kind].reduce((sum, field) => sum + WIDTH[field], 0);
}

/** Compact canonical bytes: kind(1) then the kind's fields (docs/spec.md, "Event encoding"). */
export function encodeEvent(event: StatusEvent): Uint8Array {
  const hashes = checkedHashes(event, "event");
  const out = new Uint8Array(encodedEventLength(event.kind));
  out[0] = event.kind;
  let offset = 1;
  for (const field of LAYOUT[event.kind]) {
    const width = WIDTH[field];
    if (HASH_FIELDS.has(field) || field === "grant") out.set(hashes[field]!, offset);
    else writeUint(out, offset, width, event[field] as number);
    offset += width;
  }
  return out;
}

/** Strict decode of one event at `offset`; returns the event and the offset after it. */
export function decodeEvent(bytes: Uint8Array, offset: number): { event: StatusEvent; next: number } {
  const kind = bytes[offset] as EventKind;
  if (!LAYOUT[kind]) throw new CoreError("MALFORMED_BYTES", `unknown event kind ${bytes[offset]} at byte ${offset}`);
  const next = offset + encodedEventLength(kind);
  if (next > bytes.length) throw new CoreError("MALFORMED_BYTES", `event at byte ${offset} is truncated`);
  const event = blankEvent(kind) as unknown as Record<string, unknown>;
  let at = offset + 1;
  for (const field of LAYOUT[kind]) {
    const width = WIDTH[field];
    event[field] = HASH_FIELDS.has(field) || field === "grant" ? bytesToHex(bytes.subarray(at, at + width)) : readUint(bytes, at, width);
    at += width;
  }
  try {
    checkEvent(event as unknown as StatusEvent, `event at byte ${offset}`);
  } catch (error) {
    throw new CoreError("MALFORMED_BYTES", (error as Error).message);
  }
  return { event: event as unknown as StatusEvent, next };
}

/**
 * Version byte of the anchor calldata format (3: submissions carry their deadline and intake block,
 * v is 27 or 28; 4: no holder handle, a re-issue names the credential it supersedes; 5: a lock
 * carries the device's grant).
 */
export const BATCH_FORMAT_VERSION = 5;
/** Bytes of the batch data before its submissions: version(1) || submissionCount(4). */
export const BATCH_HEADER_LENGTH = 5;

/**
 * The `eventData` of an anchor transaction: version(1) || submissionCount(4) || for each
 * submission: nonce(32) || deadline(8) || intakeBlock(8) || signature(65) || eventCount(4) ||
 * events. Signers are not stored: they are recovered from the signatures.
 */
export function encodeBatchData(submissions: readonly AcceptedSubmission[]): Uint8Array {
  const header = new Uint8Array(BATCH_HEADER_LENGTH);
  header[0] = BATCH_FORMAT_VERSION;
  writeUint(header, 1, 4, submissions.length);
  return Buffer.concat([header, ...submissions.map(encodeSubmission)]);
}

export function decodeBatchData(bytes: Uint8Array): AcceptedSubmission[] {
  if (bytes.length < BATCH_HEADER_LENGTH || bytes[0] !== BATCH_FORMAT_VERSION) {
    throw new CoreError("MALFORMED_BYTES", `batch data must start with format version ${BATCH_FORMAT_VERSION}`);
  }
  const count = readUint(bytes, 1, 4);
  const submissions: AcceptedSubmission[] = [];
  let offset = BATCH_HEADER_LENGTH;
  for (let s = 0; s < count; s++) {
    const decoded = decodeSubmission(bytes, offset, `submission ${s}`);
    submissions.push(decoded.submission);
    offset = decoded.next;
  }
  if (offset !== bytes.length) throw new CoreError("MALFORMED_BYTES", `${bytes.length - offset} trailing bytes after the last submission`);
  return submissions;
}

/** Where an encoded submission's fields start; its events follow the header. */
const DEADLINE_AT = 32;
const INTAKE_BLOCK_AT = 40;
const SIGNATURE_AT = 48;
export const SUBMISSION_EVENT_COUNT_AT = 113;
export const SUBMISSION_HEADER_LENGTH = 117;

/** One submission as the anchor calldata carries it: nonce(32) || deadline(8) || intakeBlock(8) || signature(65) || eventCount(4) || events. */
export function encodeSubmission(submission: AcceptedSubmission): Uint8Array {
  const out = new Uint8Array(submissionLength(submission));
  out.set(hexToBytes(submission.nonce, 32, "nonce"), 0);
  writeUint(out, DEADLINE_AT, 8, submission.deadline);
  writeUint(out, INTAKE_BLOCK_AT, 8, submission.intakeBlock);
  out.set(hexToBytes(submission.signature, 65, "signature"), SIGNATURE_AT);
  writeUint(out, SUBMISSION_EVENT_COUNT_AT, 4, submission.events.length);
  let offset = SUBMISSION_HEADER_LENGTH;
  for (const event of submission.events) {
    const encoded = encodeEvent(event);
    out.set(encoded, offset);
    offset += encoded.length;
  }
  return out;
}

/** Bytes encodeSubmission makes of a submission (what it adds to an anchor's calldata). */
export function submissionLength(submission: Pick<Submission, "events">): number {
  let length = SUBMISSION_HEADER_LENGTH;
  for (const event of submission.events) length += encodedEventLength(event.kind);
  return length;
}

/** Strict decode of one submission at `offset`; returns it and the offset after it. */
export function decodeSubmission(bytes: Uint8Array, offset: number, what = "submission"): { submission: AcceptedSubmission; next: number } {
  if (offset + SUBMISSION_HEADER_LENGTH > bytes.length) throw new CoreError("MALFORMED_BYTES", `${what} is truncated`);
  const nonce = bytesToHex(bytes.subarray(offset, offset + DEADLINE_AT));
  const deadline = readUint(bytes, offset + DEADLINE_AT, 8);
  const intakeBlock = readUint(bytes, offset + INTAKE_BLOCK_AT, 8);
  const signature = bytesToHex(bytes.subarray(offset + SIGNATURE_AT, offset + SUBMISSION_EVENT_COUNT_AT));
  const eventCount = readUint(bytes, offset + SUBMISSION_EVENT_COUNT_AT, 4);
  let next = offset + SUBMISSION_HEADER_LENGTH;
  const events: StatusEvent[] = [];
  for (let e = 0; e < eventCount; e++) {
    const decoded = decodeEvent(bytes, next);
    events.push(decoded.event);
    next = decoded.next;
  }
  return { submission: { nonce, deadline, intakeBlock, signature, events }, next };
}

/** position(4) || kind(1) || signer(20) || nonce(32) || record(82) */
export const APPLIED_EVENT_LENGTH = 4 + 1 + 20 + 32 + RECORD_LENGTH;

export function encodeAppliedEvent(applied: AppliedEvent): Uint8Array {
  if (!AppliedKind[applied.kind]) throw new CoreError("INVALID_FIELD", `unknown applied kind ${applied.kind}`);
  const out = new Uint8Array(APPLIED_EVENT_LENGTH);
  writeUint(out, 0, 4, applied.position);
  out[4] = applied.kind;
  out.set(hexToBytes(applied.signer, 20, "signer"), 5);
  out.set(hexToBytes(applied.nonce, 32, "nonce"), 25);
  out.set(encodeRecord(applied.record), 57);
  return out;
}

export function decodeAppliedEvent(bytes: Uint8Array): AppliedEvent {
  if (bytes.length !== APPLIED_EVENT_LENGTH) {
    throw new CoreError("MALFORMED_BYTES", `an applied event is ${APPLIED_EVENT_LENGTH} bytes, got ${bytes.length}`);
  }
  const kind = bytes[4];
  if (!AppliedKind[kind]) throw new CoreError("MALFORMED_BYTES", `unknown applied kind ${kind}`);
  return {
    position: readUint(bytes, 0, 4),
    kind,
    signer: bytesToHex(bytes.subarray(5, 25)),
    nonce: bytesToHex(bytes.subarray(25, 57)),
    record: decodeRecord(bytes.subarray(57)),
  };
}

/** Chunk size of the event data hash; the contract's EventData.CHUNK. */
export const EVENT_DATA_CHUNK = 8192;

/** The anchored hash of a batch's calldata: h = keccak256(h || chunk) over 8 KiB chunks, from 0. */
export function eventDataHash(hasher: Hasher, data: Uint8Array): Hex {
  let h: Uint8Array = new Uint8Array(32);
  for (let at = 0; at < data.length; at += EVENT_DATA_CHUNK) {
    const chunk = data.subarray(at, at + EVENT_DATA_CHUNK);
    const input = new Uint8Array(32 + chunk.length);
    input.set(h, 0);
    input.set(chunk, 32);
    h = hasher.hash(input);
  }
  return bytesToHex(h);
}
