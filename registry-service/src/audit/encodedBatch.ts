import { id, TypedDataEncoder } from "ethers";
import {
  BATCH_FORMAT_VERSION,
  BATCH_HEADER_LENGTH,
  bytesToHex,
  Channel,
  decodeBatchData,
  decodeSubmission,
  domainHash,
  EventKind,
  hexToBytes,
  readUint,
  SUBMISSION_EVENT_COUNT_AT,
  SUBMISSION_HEADER_LENGTH,
  SUBMISSION_TYPES,
  type AcceptedSubmission,
  type Hasher,
  type Hex,
  type PublicKeyRecovery,
  type RegistryDomain,
} from "../core";

/** An ISSUE on the wire: kind(1) || credentialCommitment(32) || deviceKeyHash(32) || channel(1) (docs/spec.md 4.1). */
export const ISSUE_LENGTH = 66;

/**
 * One submission of an anchor's event data, read where it lies: its fields, and its events' place.
 * A submission of issuances only (bulk issuance, nearly every event of a national registry) is
 * replayed from these bytes; any other is decoded by the core and replayed as the service applied it.
 */
export class EncodedSubmission {
  private decoded?: AcceptedSubmission;
  readonly deadline: number;
  readonly intakeBlock: number;
  readonly eventCount: number;

  constructor(
    readonly data: Uint8Array,
    /** where its header starts, and where it ends */
    readonly at: number,
    readonly end: number,
    /** every event is an ISSUE, already checked as the decoder checks it */
    readonly issuesOnly: boolean,
  ) {
    this.deadline = readUint(data, at + 32, 8);
    this.intakeBlock = readUint(data, at + 40, 8);
    this.eventCount = readUint(data, at + SUBMISSION_EVENT_COUNT_AT, 4);
  }

  get eventsAt(): number {
    return this.at + SUBMISSION_HEADER_LENGTH;
  }

  get nonce(): Uint8Array {
    return this.data.subarray(this.at, this.at + 32);
  }

  /** r || s || v */
  get signature(): Uint8Array {
    return this.data.subarray(this.at + 48, this.at + SUBMISSION_EVENT_COUNT_AT);
  }

  /** The submission as the core's decoder gives it (decoded once, when first asked for). */
  submission(): AcceptedSubmission {
    return (this.decoded ??= decodeSubmission(this.data, this.at).submission);
  }
}

/**
 * The submissions of an anchor's event data, checked exactly as decodeBatchData checks them;
 * anything it would refuse throws the decoder's own CoreError (the decoder is asked then).
 */
export function scanBatchData(data: Uint8Array): EncodedSubmission[] {
  try {
    return scan(data);
  } catch (error) {
    decodeBatchData(data); // throws the reference error for what the scan refused
    throw error;
  }
}

function scan(data: Uint8Array): EncodedSubmission[] {
  if (data.length < BATCH_HEADER_LENGTH || data[0] !== BATCH_FORMAT_VERSION) throw new Error("bad header");
  const count = readUint(data, 1, 4);
  const submissions: EncodedSubmission[] = [];
  let at = BATCH_HEADER_LENGTH;
  for (let s = 0; s < count; s++) {
    const submission = scanSubmission(data, at);
    submissions.push(submission);
    at = submission.end;
  }
  if (at !== data.length) throw new Error("trailing bytes");
  return submissions;
}

function scanSubmission(data: Uint8Array, at: number): EncodedSubmission {
  if (at + SUBMISSION_HEADER_LENGTH > data.length) throw new Error("truncated");
  const end = issuesEnd(data, at + SUBMISSION_HEADER_LENGTH, readUint(data, at + SUBMISSION_EVENT_COUNT_AT, 4));
  if (end !== undefined) return new EncodedSubmission(data, at, end, true);
  return new EncodedSubmission(data, at, decodeSubmission(data, at).next, false);
}

/** Where `count` well-formed ISSUE events from `at` end, or undefined when they are not all that. */
function issuesEnd(data: Uint8Array, at: number, count: number): number | undefined {
  const end = at + count * ISSUE_LENGTH;
  if (end > data.length) return undefined;
  for (let event = at; event < end; event += ISSUE_LENGTH) {
    const channel = data[event + 65];
    if (data[event] !== EventKind.Issue || channel < Channel.ChipCard || channel > Channel.OnlinePortal) return undefined;
    if (isZero32(data, event + 1) || isZero32(data, event + 33)) return undefined;
  }
  return end;
}

function isZero32(data: Uint8Array, at: number): boolean {
  for (let i = at; i < at + 32; i++) if (data[i] !== 0) return false;
  return true;
}

/** Half the secp256k1 group order: a larger s is refused (EIP-2), as recoverSubmitter refuses it. */
const HALF_ORDER = hexToBytes("0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0");

/** A recovered signer: its address as the core spells it (lowercase hex) and its 20 bytes. */
export interface RecoveredSigner {
  hex: Hex;
  bytes: Uint8Array;
}

/**
 * The EIP-712 digest of an issuances-only submission, computed from its bytes (no hex, no event
 * objects), and its signer recovered with libsecp256k1: what recoverSubmitter gives for it (tested).
 */
export class IssuanceSigners {
  private readonly eventTypeHash = typeHash({ Event: SUBMISSION_TYPES.Event }, "Event");
  private readonly submissionTypeHash = typeHash(SUBMISSION_TYPES, "Submission");
  private readonly separator: Uint8Array;
  /** typeHash(Event) || kind || index || credentialCommitment || deviceKeyHash || channel || reason */
  private readonly word = new Uint8Array(7 * 32);
  private readonly struct = new Uint8Array(128);
  private readonly envelope = new Uint8Array(66);

  constructor(
    domain: RegistryDomain,
    private readonly hasher: Hasher,
    private readonly recover: PublicKeyRecovery,
  ) {
    this.separator = hexToBytes(domainHash(domain));
    this.word.set(this.eventTypeHash, 0);
    this.word[63] = EventKind.Issue;
    this.struct.set(this.submissionTypeHash, 0);
    this.envelope.set([0x19, 0x01, ...this.separator], 0);
  }

  digest(submission: EncodedSubmission): Uint8Array {
    const { data, eventCount } = submission;
    const eventHashes = new Uint8Array(eventCount * 32);
    for (let e = 0, at = submission.eventsAt; e < eventCount; e++, at += ISSUE_LENGTH) {
      this.word.set(data.subarray(at + 1, at + 65), 96); // credentialCommitment || deviceKeyHash, side by side on both
      this.word[191] = data[at + 65];
      eventHashes.set(this.hasher.hash(this.word), e * 32);
    }
    this.struct.set(submission.nonce, 32);
    this.struct.set(submission.data.subarray(submission.at + 32, submission.at + 40), 88); // deadline, uint64
    this.struct.set(this.hasher.hash(eventHashes), 96);
    this.envelope.set(this.hasher.hash(this.struct), 34);
    return this.hasher.hash(this.envelope);
  }

  /** The signer, or undefined for any signature recoverSubmitter would refuse (it then says why). */
  signer(submission: EncodedSubmission): RecoveredSigner | undefined {
    const signature = submission.signature;
    const v = signature[64];
    if ((v !== 27 && v !== 28) || !notAbove(signature.subarray(32, 64), HALF_ORDER)) return undefined;
    let publicKey: Uint8Array;
    try {
      publicKey = this.recover(signature.subarray(0, 64), v - 27, this.digest(submission));
    } catch {
      return undefined;
    }
    const bytes = this.hasher.hash(publicKey.subarray(1)).subarray(12);
    return { hex: bytesToHex(bytes), bytes };
  }
}

function typeHash(types: Parameters<typeof TypedDataEncoder.from>[0], name: string): Uint8Array {
  return hexToBytes(id(TypedDataEncoder.from(types).encodeType(name)));
}

/** a <= b, both big-endian unsigned of the same length */
function notAbove(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i];
  return true;
}
