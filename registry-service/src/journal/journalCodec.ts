import {
  AppliedKind,
  bytesToHex,
  encodedEventLength,
  EventKind,
  isIssuance,
  RECORD_DEVICE_AT,
  decodeRecord,
  decodeSubmission,
  encodeRecord,
  encodeSubmission,
  hexToBytes,
  readUint,
  RECORD_LENGTH,
  SUBMISSION_EVENT_COUNT_AT,
  SUBMISSION_HEADER_LENGTH,
  writeUint,
  type AcceptedSubmission,
  type AppliedDraft,
  type Hex,
} from "../core";

/** One accepted submission as journalled: enough to rebuild its batch, the state, and answer a resend. */
export interface JournalEntry {
  seq: number;
  batch: number;
  signer: Hex;
  submission: AcceptedSubmission;
  applied: AppliedDraft[];
}

/** 5: submissions in the anchor calldata format 5 (a lock carries its device's grant) */
const JOURNAL_FORMAT = 5;
/** format(1) || batch(8) || signer(20), then the submission */
const BATCH_AT = 1;
const SIGNER_AT = 9;
const SUBMISSION_AT = 29;
/** the submission's header (nonce, deadline, intake block, signature, eventCount), then its events */
const EVENT_COUNT_AT = SUBMISSION_AT + SUBMISSION_EVENT_COUNT_AT;
const EVENTS_AT = SUBMISSION_AT + SUBMISSION_HEADER_LENGTH;
const APPLIED_LENGTH = 1 + RECORD_LENGTH;

function checkFormat(seq: number, bytes: Uint8Array): void {
  if (bytes[0] !== JOURNAL_FORMAT)
    throw new Error(`journal entry ${seq} has format ${bytes[0]}, this service reads format ${JOURNAL_FORMAT}`);
}

/**
 * A journal entry's bytes: format(1) || batch(8) || signer(20) || submission (as the anchor calldata
 * carries it, docs/spec.md 5.1) || appliedCount(4) || per applied event: kind(1) || record(82).
 * The sequence number is the entry's key. About 180 bytes per issuance, a fifth of its JSON.
 */
export function encodeJournalEntry(entry: Omit<JournalEntry, "seq">): Uint8Array {
  const submission = encodeSubmission(entry.submission);
  const out = new Uint8Array(SUBMISSION_AT + submission.length + 4 + entry.applied.length * APPLIED_LENGTH);
  out[0] = JOURNAL_FORMAT;
  writeUint(out, BATCH_AT, 8, entry.batch);
  out.set(hexToBytes(entry.signer, 20, "signer"), SIGNER_AT);
  out.set(submission, SUBMISSION_AT);
  let at = SUBMISSION_AT + submission.length;
  writeUint(out, at, 4, entry.applied.length);
  at += 4;
  for (const applied of entry.applied) {
    out[at] = applied.kind;
    out.set(encodeRecord(applied.record), at + 1);
    at += APPLIED_LENGTH;
  }
  return out;
}

/**
 * An entry of a batch after `after`, with its batch moved by `delta` and with it the batch number
 * its applied records carry (a correction's re-base: the batch numbers the chain struck are
 * skipped); undefined for an entry of `after` or earlier, which stays as it is.
 */
export function restampJournalEntry(
  seq: number,
  bytes: Uint8Array,
  { after, delta }: { after: number; delta: number },
): Uint8Array | undefined {
  checkFormat(seq, bytes);
  if (readUint(bytes, BATCH_AT, 8) <= after) return undefined;
  const entry = decodeJournalEntry(seq, bytes);
  const applied = entry.applied.map((draft) => ({ ...draft, record: { ...draft.record, batch: draft.record.batch + delta } }));
  return encodeJournalEntry({ ...entry, batch: entry.batch + delta, applied });
}

/** The canonical bytes of applied record `i` of `count` inside an encoded entry (a view into it). */
export function journalRecordBytes(bytes: Uint8Array, count: number, i: number): Uint8Array {
  const at = bytes.length - (count - i) * APPLIED_LENGTH + 1;
  return bytes.subarray(at, at + RECORD_LENGTH);
}

export function decodeJournalEntry(seq: number, bytes: Uint8Array): JournalEntry {
  checkFormat(seq, bytes);
  const batch = readUint(bytes, BATCH_AT, 8);
  const signer = bytesToHex(bytes.subarray(SIGNER_AT, SUBMISSION_AT));
  const { submission, next } = decodeSubmission(bytes, SUBMISSION_AT, `journal entry ${seq}`);
  const count = readUint(bytes, next, 4);
  const applied: AppliedDraft[] = [];
  for (let i = 0, at = next + 4; i < count; i++, at += APPLIED_LENGTH) {
    applied.push({
      kind: bytes[at] as AppliedKind,
      signer,
      nonce: submission.nonce,
      record: decodeRecord(bytes.subarray(at + 1, at + APPLIED_LENGTH)),
    });
  }
  return { seq, batch, signer, submission, applied };
}

/** The batch an entry joined, read from its bytes alone. */
export function journalEntryBatch(seq: number, bytes: Uint8Array): number {
  checkFormat(seq, bytes);
  return readUint(bytes, BATCH_AT, 8);
}

/** An entry's parts as views into its bytes: what building its batch's anchor needs, no event decoded. */
export interface JournalEntryParts {
  signer: Uint8Array;
  nonce: Uint8Array;
  /** the submission exactly as the anchor calldata carries it (docs/spec.md 5.1) */
  submission: Uint8Array;
  /** the applied events' kinds and their records' canonical bytes, in order */
  applied: { kind: AppliedKind; record: Uint8Array }[];
}

/** One past the last byte of the submission in an entry (its events' lengths added up from their kinds). */
function submissionEnd(bytes: Uint8Array): number {
  const eventCount = readUint(bytes, EVENT_COUNT_AT, 4);
  let at = EVENTS_AT;
  for (let e = 0; e < eventCount; e++) at += encodedEventLength(bytes[at] as EventKind);
  return at;
}

export function journalEntryParts(seq: number, bytes: Uint8Array): JournalEntryParts {
  checkFormat(seq, bytes);
  const end = submissionEnd(bytes);
  const count = readUint(bytes, end, 4);
  if (end + 4 + count * APPLIED_LENGTH !== bytes.length) throw new Error(`journal entry ${seq} does not add up`);
  const applied: JournalEntryParts["applied"] = new Array(count);
  for (let i = 0, at = end + 4; i < count; i++, at += APPLIED_LENGTH)
    applied[i] = { kind: bytes[at] as AppliedKind, record: bytes.subarray(at + 1, at + APPLIED_LENGTH) };
  return {
    signer: bytes.subarray(SIGNER_AT, SUBMISSION_AT),
    nonce: bytes.subarray(SUBMISSION_AT, SUBMISSION_AT + 32),
    submission: bytes.subarray(SUBMISSION_AT, end),
    applied,
  };
}

/** What an entry changed, read straight from its bytes: no event decoding, no state machine. */
export interface JournalEffects {
  batch: number;
  signer: Hex;
  nonce: Hex;
  /** bytes the submission adds to its anchor's calldata */
  submissionBytes: number;
  /** each changed record's index and canonical bytes, in order (later ones win) */
  records: { index: number; raw: Uint8Array }[];
  /** the device binding each issuance made: device (a 32-byte view) -> the issued index */
  issued: { deviceKeyHash: Uint8Array; index: number }[];
}

/**
 * The effects of a journal entry, for rebuilding the state on open: what the state machine decided
 * at intake is in the entry, so replaying it is copying records and reading the device bindings of
 * its issuances from their records (one ISSUE applied event per issuance event). Throws on an entry
 * that does not add up.
 */
export function journalEffects(seq: number, bytes: Uint8Array): JournalEffects {
  checkFormat(seq, bytes);
  let issuances = 0;
  const eventCount = readUint(bytes, EVENT_COUNT_AT, 4);
  let at = EVENTS_AT;
  for (let e = 0; e < eventCount; e++) {
    const kind = bytes[at] as EventKind;
    if (isIssuance(kind)) issuances++;
    at += encodedEventLength(kind);
  }
  const effects: JournalEffects = {
    batch: readUint(bytes, BATCH_AT, 8),
    signer: bytesToHex(bytes.subarray(SIGNER_AT, SUBMISSION_AT)),
    nonce: bytesToHex(bytes.subarray(SUBMISSION_AT, SUBMISSION_AT + 32)),
    submissionBytes: at - SUBMISSION_AT,
    records: [],
    issued: [],
  };
  const count = readUint(bytes, at, 4);
  at += 4;
  for (let i = 0; i < count; i++, at += APPLIED_LENGTH) {
    const raw = bytes.subarray(at + 1, at + APPLIED_LENGTH);
    const index = readUint(raw, 0, 8);
    effects.records.push({ index, raw });
    if (bytes[at] === AppliedKind.Issue)
      effects.issued.push({ deviceKeyHash: raw.subarray(RECORD_DEVICE_AT, RECORD_DEVICE_AT + 32), index });
  }
  if (at !== bytes.length || effects.issued.length !== issuances)
    throw new Error(
      `journal entry ${seq} does not add up: ${bytes.length - at} bytes left, ${issuances} issuance events, ${effects.issued.length} issued`,
    );
  return effects;
}
