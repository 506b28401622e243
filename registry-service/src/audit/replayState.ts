import {
  AppliedKind,
  APPLIED_EVENT_LENGTH,
  bytesToHex,
  decodeAppliedEvent,
  encodeAppliedEvent,
  HashIndex,
  RecordTable,
  RECORD_LENGTH,
  Status,
  type AppliedEvent,
  type Hasher,
  type Hex,
  type StateChanges,
  type StateReader,
  type StatusRecord,
} from "../core";
import { ISSUE_LENGTH, type EncodedSubmission, type RecoveredSigner } from "./encodedBatch";

/** A slot of AppliedEvents: the leaf prefix 0x00, then the applied event's encoding. */
const SLOT = 1 + APPLIED_EVENT_LENGTH;
/** where the record sits in a slot: prefix(1) || position(4) || kind(1) || signer(20) || nonce(32) */
const RECORD_AT = 58;

/**
 * A batch's applied events as bytes, each behind the 0x00 leaf prefix so that its event-tree leaf
 * is one hash of the slot: no per-event objects while replaying. Decoded only when asked (a mirror's
 * recent batches).
 */
export class AppliedEvents {
  readonly bytes: Uint8Array;
  count = 0;

  constructor(capacity: number) {
    this.bytes = new Uint8Array(Math.max(1, capacity) * SLOT);
  }

  /** A new slot with its position, kind, signer and nonce written; its record is the caller's to write (at RECORD_AT). */
  add(kind: AppliedKind, signer: Uint8Array, nonce: Uint8Array): number {
    const at = this.count * SLOT;
    writeUint32(this.bytes, at + 1, this.count++);
    this.bytes[at + 5] = kind;
    this.bytes.set(signer, at + 6);
    this.bytes.set(nonce, at + 26);
    return at;
  }

  addEncoded(event: AppliedEvent): void {
    this.bytes.set(encodeAppliedEvent({ ...event, position: this.count }), this.count++ * SLOT + 1);
  }

  record(position: number): Uint8Array {
    return this.bytes.subarray(position * SLOT + RECORD_AT, (position + 1) * SLOT);
  }

  /** The status index of the record at `position`. */
  index(position: number): number {
    const at = position * SLOT + RECORD_AT;
    return readUint32(this.bytes, at) * 2 ** 32 + readUint32(this.bytes, at + 4);
  }

  /** Each event's leaf in the event tree, each record's leaf in the status tree, and the records' indexes. */
  leaves(hasher: Hasher): { events: Uint8Array; records: Uint8Array; indexes: Float64Array } {
    const events = new Uint8Array(this.count * 32);
    const records = new Uint8Array(this.count * 32);
    const indexes = new Float64Array(this.count);
    for (let i = 0; i < this.count; i++) {
      events.set(hasher.hash(this.bytes.subarray(i * SLOT, (i + 1) * SLOT)), i * 32);
      records.set(hasher.leaf(this.record(i)), i * 32);
      indexes[i] = this.index(i);
    }
    return { events, records, indexes };
  }

  decode(): AppliedEvent[] {
    return Array.from({ length: this.count }, (_, i) => decodeAppliedEvent(this.bytes.subarray(i * SLOT + 1, (i + 1) * SLOT)));
  }
}

/** What a fast issuance needs from the replay: the signer, the batch, the slots and whether the signer may issue. */
export interface IssuanceContext {
  signer: RecoveredSigner;
  batch: number;
  slots: number;
  mayIssue: boolean;
}

/**
 * The replayed registry state on typed arrays: records in a RecordTable (82 bytes each), device
 * bindings in a RecordKeyIndex over the records, nonces by submission. The state machine reads it as any StateReader;
 * a submission of issuances only is applied straight from its bytes (`issue`).
 */
export class ReplayState implements StateReader {
  readonly records = new RecordTable();
  /** device -> the index last issued to it, keyed by the records themselves: 512 MB at 52M devices instead of 4.8 GB */
  private readonly devices = this.records.deviceIndex();
  private readonly nonces = new Set<string>();
  private next = 0;

  record(index: number): StatusRecord | undefined {
    return this.records.get(index);
  }
  deviceIndex(deviceKeyHash: Hex): number | undefined {
    return this.devices.get(deviceKeyHash);
  }
  nextIndex(): number {
    return this.next;
  }
  seen(signer: Hex, nonce: Hex): boolean {
    return this.nonces.has(`${signer}:${nonce}`);
  }
  status(index: number): Status {
    return this.records.status(index);
  }

  commit(changes: StateChanges): void {
    for (const record of changes.records.values()) this.records.set(record);
    for (const [device, index] of changes.devices) this.devices.set(device, index);
    this.next = changes.nextIndex;
    this.nonces.add(`${changes.submission.signer}:${changes.submission.nonce}`);
  }

  /**
   * Applies an issuances-only submission as applySubmission would, writing its applied events to
   * `out`, when nothing in it can be refused: a signer who may issue, a fresh nonce, free slots and
   * devices without a live credential. Returns false, having changed nothing, otherwise: the state
   * machine then applies it, or says why not.
   */
  issue(submission: EncodedSubmission, context: IssuanceContext, out: AppliedEvents): boolean {
    const nonce = submission.nonce;
    const nonceKey = `${context.signer.hex}:${bytesToHex(nonce)}`;
    const { eventCount } = submission;
    if (!context.mayIssue || eventCount === 0 || this.next + eventCount > context.slots || this.nonces.has(nonceKey)) return false;
    if (!this.devicesFree(submission)) return false;
    const { data, eventsAt } = submission;
    for (let e = 0; e < eventCount; e++) {
      const event = eventsAt + e * ISSUE_LENGTH;
      const index = this.next++;
      const at = out.add(AppliedKind.Issue, context.signer.bytes, nonce) + RECORD_AT;
      writeRecord(out.bytes, at, index, data.subarray(event + 1, event + 65), context.batch);
      this.records.setRaw(index, out.bytes.subarray(at, at + RECORD_LENGTH));
      this.devices.set(data.subarray(event + 33, event + 65), index);
    }
    this.nonces.add(nonceKey);
    return true;
  }

  /** No device of the submission carries a live credential, nor appears twice in it (DEVICE_IN_USE). */
  private devicesFree({ data, eventsAt, eventCount }: EncodedSubmission): boolean {
    const own = new HashIndex(eventCount);
    for (let e = 0; e < eventCount; e++) {
      const device = data.subarray(eventsAt + e * ISSUE_LENGTH + 33, eventsAt + e * ISSUE_LENGTH + 65);
      const bound = this.devices.get(device);
      if ((bound !== undefined && this.records.status(bound) !== Status.Revoked) || own.get(device) !== undefined) return false;
      own.set(device, e);
    }
    return true;
  }
}

/** An ACTIVE record: index(8) || credentialCommitment || deviceKeyHash (the 64 bytes given) || status || reason || batch(8). */
function writeRecord(target: Uint8Array, at: number, index: number, hashes: Uint8Array, batch: number): void {
  writeUint64(target, at, index);
  target.set(hashes, at + 8);
  target[at + 72] = Status.Active;
  target[at + 73] = 0; // Reason.None
  writeUint64(target, at + 74, batch);
}

function writeUint64(target: Uint8Array, at: number, value: number): void {
  writeUint32(target, at, Math.floor(value / 2 ** 32));
  writeUint32(target, at + 4, value >>> 0);
}

function writeUint32(target: Uint8Array, at: number, value: number): void {
  target[at] = value >>> 24;
  target[at + 1] = (value >>> 16) & 0xff;
  target[at + 2] = (value >>> 8) & 0xff;
  target[at + 3] = value & 0xff;
}

function readUint32(source: Uint8Array, at: number): number {
  return ((source[at] << 24) | (source[at + 1] << 16) | (source[at + 2] << 8) | source[at + 3]) >>> 0;
}
