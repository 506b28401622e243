import {
  bytesToHex,
  decodeRecord,
  decodeSubmission,
  encodeRecord,
  encodeSubmission,
  hexToBytes,
  readUint,
  RECORD_LENGTH,
  writeUint,
  type AppliedDraft,
  type AppliedKind,
  type Hex,
  type Submission,
} from "../core";

/** One accepted submission as journalled: enough to rebuild its batch, the state, and answer a resend. */
export interface JournalEntry {
  seq: number;
  batch: number;
  signer: Hex;
  submission: Submission;
  applied: AppliedDraft[];
}

const JOURNAL_FORMAT = 1;
const APPLIED_LENGTH = 1 + RECORD_LENGTH;

/**
 * A journal entry's bytes: format(1) || batch(8) || signer(20) || submission (as the anchor calldata
 * carries it, docs/spec.md 5.1) || appliedCount(4) || per applied event: kind(1) || record(82).
 * The sequence number is the entry's key. About 180 bytes per issuance, a fifth of its JSON.
 */
export function encodeJournalEntry(entry: Omit<JournalEntry, "seq">): Uint8Array {
  const submission = encodeSubmission(entry.submission);
  const head = 1 + 8 + 20;
  const out = new Uint8Array(head + submission.length + 4 + entry.applied.length * APPLIED_LENGTH);
  out[0] = JOURNAL_FORMAT;
  writeUint(out, 1, 8, entry.batch);
  out.set(hexToBytes(entry.signer, 20, "signer"), 9);
  out.set(submission, head);
  let at = head + submission.length;
  writeUint(out, at, 4, entry.applied.length);
  at += 4;
  for (const applied of entry.applied) {
    out[at] = applied.kind;
    out.set(encodeRecord(applied.record), at + 1);
    at += APPLIED_LENGTH;
  }
  return out;
}

export function decodeJournalEntry(seq: number, bytes: Uint8Array): JournalEntry {
  if (bytes[0] !== JOURNAL_FORMAT) throw new Error(`journal entry ${seq} has format ${bytes[0]}, this service reads format ${JOURNAL_FORMAT}`);
  const batch = readUint(bytes, 1, 8);
  const signer = bytesToHex(bytes.subarray(9, 29));
  const { submission, next } = decodeSubmission(bytes, 29, `journal entry ${seq}`);
  const count = readUint(bytes, next, 4);
  const applied: AppliedDraft[] = [];
  for (let i = 0, at = next + 4; i < count; i++, at += APPLIED_LENGTH) {
    applied.push({ kind: bytes[at] as AppliedKind, signer, nonce: submission.nonce, record: decodeRecord(bytes.subarray(at + 1, at + APPLIED_LENGTH)) });
  }
  return { seq, batch, signer, submission, applied };
}
