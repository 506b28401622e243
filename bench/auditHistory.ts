/**
 * The synthetic history bench/audit.ts anchors: bulk issuance and lost-phone locks with their
 * phones' grants. Written in bytes (a 10M-event history must be built faster than the node takes
 * it): the issuances' calldata, records and applied events are laid out here, their signatures made
 * with libsecp256k1 over the audit's byte digest (held to the core's submissionDigest by
 * test/audit/encodedBatch.test.ts), the event root by merkletreejs and the status root by the core's tree.
 */
import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import type { HDNodeWallet } from "ethers";
import { MerkleTree } from "merkletreejs";
import secp256k1 from "secp256k1";
import {
  AppliedKind,
  APPLIED_EVENT_LENGTH,
  blankEvent,
  bytesToHex,
  Channel,
  deviceKeyHash,
  encodeAppliedEvent,
  encodeSubmission,
  encodeLockGrant,
  EventKind,
  hexToBytes,
  lockGrantMessage,
  Reason,
  RECORD_LENGTH,
  Status,
  StatusTree,
  writeUint,
  type Hasher,
  type Hex,
  type RegistryDomain,
  type StatusRecord,
} from "../registry-service/src/core";
import { EncodedSubmission, ISSUE_LENGTH, IssuanceSigners } from "../registry-service/src/audit/encodedBatch";
import { nativePublicKeyRecovery } from "../registry-service/src/accel";
import { signer } from "./support";

/** A phone that will be reported lost: its P-256 key (the grant is signed with it) and its record once issued. */
interface Phone {
  key: KeyObject;
  compressed: Uint8Array;
  hash: Hex;
  record?: StatusRecord;
}

function newPhone(): Phone {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const { x, y } = publicKey.export({ format: "jwk" });
  const odd = Buffer.from(y!, "base64url").at(-1)! & 1;
  const compressed = new Uint8Array([odd ? 3 : 2, ...Buffer.from(x!, "base64url")]);
  return { key: privateKey, compressed, hash: deviceKeyHash(compressed) };
}

/** The phone's grant of its lock to `operator`, signed by OpenSSL (docs/spec.md 4.6). */
function grantOf(phone: Phone, domain: RegistryDomain, operator: string): Hex {
  const notAfter = 4_000_000_000;
  const signature = sign("sha256", lockGrantMessage(domain, operator, notAfter), { key: phone.key, dsaEncoding: "ieee-p1363" });
  return encodeLockGrant({ devicePublicKey: phone.compressed, operator: operator as Hex, notAfter, signature });
}

/** An anchor's arguments. */
export interface BuiltBatch {
  batch: number;
  previousRoot: Hex;
  statusRoot: Hex;
  eventRoot: Hex;
  eventCount: number;
  eventData: Uint8Array;
}

/**
 * The honest publisher of the synthetic history: it knows what each event does (an issuance takes
 * the next index, a lock suspends its phone's record), so it needs no state machine and no state of
 * every credential, only the status tree.
 */
export class HistoryBuilder {
  private readonly tree: StatusTree;
  private readonly digests: IssuanceSigners;
  private readonly issuerKey: Uint8Array;
  private readonly issuerAddress: Uint8Array;
  private readonly lockSigner: ReturnType<typeof signer>;
  private issued = 0;
  private nonce = 0;
  batch = 0;
  events = 0;
  private phones: Phone[] = [];
  private readonly labelInput = new Uint8Array(9);

  constructor(
    private readonly hasher: Hasher,
    private readonly domain: RegistryDomain,
    private readonly accounts: { issuer: HDNodeWallet; operator: HDNodeWallet },
  ) {
    this.tree = new StatusTree(hasher, 32);
    this.digests = new IssuanceSigners(domain, hasher, nativePublicKeyRecovery);
    this.issuerKey = hexToBytes(accounts.issuer.privateKey);
    this.issuerAddress = hexToBytes(accounts.issuer.address);
    this.lockSigner = signer(hasher, accounts.operator, domain);
  }

  /** The next batch: `size` events, `locks` of them locks of phones issued in the batch before. */
  next(size: number, locks: number, intakeBlock: number, deadline: number): BuiltBatch {
    const batch = ++this.batch;
    const locked = this.phones.slice(0, locks);
    const lost = Array.from({ length: Math.min(locks, size - locked.length - 1) }, newPhone);
    const issuance = this.issuances(size - locked.length, lost, { intakeBlock, deadline, batch });
    const parts: Uint8Array[] = [issuance.bytes];
    const leaves = issuance.leaves;
    if (locked.length) {
      const lockPart = this.locks(locked, { intakeBlock, batch, position: issuance.count });
      parts.push(lockPart.bytes);
      leaves.push(...lockPart.leaves);
    }
    lost.forEach((phone, k) => (phone.record = { ...issuance.records[k] }));
    this.phones = lost;
    const header = new Uint8Array([5, 0, 0, 0, parts.length]);
    const previousRoot = this.tree.root;
    const statusRoot = this.tree.applyLeaves(
      leaves.map((leaf) => leaf.index),
      Buffer.concat(leaves.map((leaf) => leaf.record)),
    );
    const tree = new MerkleTree(
      leaves.map((leaf) => leaf.event),
      (data: Buffer) => Buffer.from(this.hasher.hash(data)),
      { sortPairs: true },
    );
    this.events += leaves.length;
    return {
      batch,
      previousRoot,
      statusRoot,
      eventRoot: bytesToHex(tree.getRoot()),
      eventCount: leaves.length,
      eventData: Buffer.concat([header, ...parts]),
    };
  }

  private nextNonce(): Uint8Array {
    return this.hasher.hash(new TextEncoder().encode(`bench nonce ${this.nonce++}`));
  }

  /** One issuer's submission of `count` issuances, the first ones to the phones that will be lost; its bytes and leaves. */
  private issuances(count: number, lost: Phone[], at: { intakeBlock: number; deadline: number; batch: number }) {
    const bytes = new Uint8Array(117 + count * ISSUE_LENGTH);
    const nonce = this.nextNonce();
    bytes.set(nonce, 0);
    writeUint(bytes, 32, 8, at.deadline);
    writeUint(bytes, 40, 8, at.intakeBlock);
    writeUint(bytes, 113, 4, count);
    const records: StatusRecord[] = [];
    const leaves: Leaf[] = [];
    const label = (what: number, n: number) => {
      writeUint(this.labelInput, 0, 8, n);
      this.labelInput[8] = what;
      return this.hasher.hash(this.labelInput);
    };
    for (let k = 0; k < count; k++) {
      const commitment = label(1, this.issued + k);
      const device = k < lost.length ? hexToBytes(lost[k].hash) : label(2, this.issued + k);
      const event = 117 + k * ISSUE_LENGTH;
      bytes[event] = EventKind.Issue;
      bytes.set(commitment, event + 1);
      bytes.set(device, event + 33);
      bytes[event + 65] = Channel.ChipCard;
      if (k < lost.length) records.push(issuedRecord(this.issued + k, commitment, device, at.batch));
      leaves.push(this.issuanceLeaf(k, nonce, this.issued + k, bytes.subarray(event + 1, event + 65), at.batch));
    }
    this.issued += count;
    const digest = this.digests.digest(new EncodedSubmission(bytes, 0, bytes.length, true));
    const { signature, recid } = secp256k1.ecdsaSign(digest, this.issuerKey);
    bytes.set(signature, 48);
    bytes[112] = 27 + recid;
    return { bytes, leaves, records, count };
  }

  /** The operator's submission locking the given phones (through the core's encoders: a few per batch). */
  private locks(phones: Phone[], at: { intakeBlock: number; batch: number; position: number }) {
    const operator = this.accounts.operator.address.toLowerCase();
    const events = phones.map((phone) => ({
      ...blankEvent(EventKind.LockDevice),
      deviceKeyHash: phone.hash,
      grant: grantOf(phone, this.domain, operator),
    }));
    const submission = { ...this.lockSigner(bytesToHex(this.nextNonce()), events), intakeBlock: at.intakeBlock };
    const nonce = hexToBytes(submission.nonce);
    const leaves = phones.map((phone, k) =>
      this.leaf(at.position + k, AppliedKind.LockDevice, hexToBytes(operator), nonce, {
        ...phone.record!,
        status: Status.Suspended,
        reason: Reason.LostDevice,
        batch: at.batch,
      }),
    );
    return { bytes: encodeSubmission(submission), leaves };
  }

  /** An issuance's leaves, its applied event laid out here: position(4) || kind(1) || signer(20) || nonce(32) || record(82). */
  private issuanceLeaf(position: number, nonce: Uint8Array, index: number, hashes: Uint8Array, batch: number): Leaf {
    const applied = new Uint8Array(APPLIED_EVENT_LENGTH);
    writeUint(applied, 0, 4, position);
    applied[4] = AppliedKind.Issue;
    applied.set(this.issuerAddress, 5);
    applied.set(nonce, 25);
    const record = applied.subarray(APPLIED_EVENT_LENGTH - RECORD_LENGTH);
    record.set([0, 0, 0, index / 2 ** 32, index >>> 24, (index >>> 16) & 255, (index >>> 8) & 255, index & 255], 0);
    record.set(hashes, 8);
    record[72] = Status.Active;
    writeUint(record, 74, 8, batch);
    return { index, event: Buffer.from(this.hasher.leaf(applied)), record: this.hasher.leaf(record) };
  }

  private leaf(position: number, kind: AppliedKind, signerAddress: Uint8Array, nonce: Uint8Array, record: StatusRecord): Leaf {
    const applied = encodeAppliedEvent({ position, kind, signer: bytesToHex(signerAddress), nonce: bytesToHex(nonce), record });
    const recordBytes = applied.subarray(APPLIED_EVENT_LENGTH - RECORD_LENGTH);
    return { index: record.index, event: Buffer.from(this.hasher.leaf(applied)), record: this.hasher.leaf(recordBytes) };
  }
}

function issuedRecord(index: number, commitment: Uint8Array, device: Uint8Array, batch: number): StatusRecord {
  return {
    index,
    credentialCommitment: bytesToHex(commitment),
    deviceKeyHash: bytesToHex(device),
    status: Status.Active,
    reason: Reason.None,
    batch,
  };
}

interface Leaf {
  index: number;
  event: Buffer;
  record: Uint8Array;
}
