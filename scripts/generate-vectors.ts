/**
 * Writes test/vectors/*.json from the naive reference implementation in test/reference (never from
 * registry-service), so that the TypeScript core and the Solidity contract are both checked
 * against values neither of them produced. Run: npm run vectors
 */
import { createECDH, createHash } from "node:crypto";
import { p256 } from "@noble/curves/p256";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { concat, dataSlice, HDNodeWallet, hexlify, id, keccak256, solidityPacked, toBeHex, toUtf8Bytes, TypedDataEncoder } from "ethers";
import {
  refAppliedBytes,
  refAppliedLeaf,
  refEmpty,
  refEventDataHash,
  refEventProof,
  refEventRoot,
  refFold,
  refLeaf,
  refProof,
  refRecordBytes,
  refRoot,
  type RefApplied,
  type RefRecord,
} from "../test/reference/reference";

const DEV_MNEMONIC = "test test test test test test test test test test test junk";
const OUT = path.join(__dirname, "..", "test", "vectors");
const h = (label: string) => id(label); // deterministic 32-byte values

function record(index: number, status: number, reason: number, batch: number): RefRecord {
  return { index, credentialCommitment: h(`commitment ${index}`), deviceKeyHash: h(`device ${index}`), status, reason, batch };
}

function emptyRecord(index: number): RefRecord {
  const zero = `0x${"00".repeat(32)}`;
  return { index, credentialCommitment: zero, deviceKeyHash: zero, status: 0, reason: 0, batch: 0 };
}

function flipBit(hex: string, bit: number): string {
  const bytes = Buffer.from(hex.slice(2), "hex");
  bytes[bytes.length - 1 - Math.floor(bit / 8)] ^= 1 << (bit % 8);
  return `0x${bytes.toString("hex")}`;
}

type Outcome = "ROOT_MISMATCH" | "INVALID_PROOF_LENGTH" | "INDEX_OUT_OF_RANGE" | "INVALID_FIELD";

function statusTreeCase(name: string, depth: number, records: RefRecord[], probe: number[]) {
  const map = new Map(records.map((r) => [r.index, r]));
  const root = refRoot(map, depth);
  const proofs = probe.map((index) => {
    const rec = map.get(index) ?? emptyRecord(index);
    const proof = refProof(map, depth, index);
    if (refFold(rec, proof) !== root) throw new Error(`reference disagrees with itself at ${index}`);
    return { record: rec, leaf: refLeaf(rec), proof };
  });

  const [used] = proofs.filter((p) => p.record.status !== 0);
  const [unused] = proofs.filter((p) => p.record.status === 0);
  const other = records.find((r) => r.index !== used.record.index);
  const invalid: { name: string; record: RefRecord; proof: string[]; outcome: Outcome }[] = [
    {
      name: "lowest sibling bit flipped",
      record: used.record,
      proof: [flipBit(used.proof[0], 0), ...used.proof.slice(1)],
      outcome: "ROOT_MISMATCH",
    },
    {
      name: "top sibling bit flipped",
      record: used.record,
      proof: [...used.proof.slice(0, -1), flipBit(used.proof[depth - 1], 255)],
      outcome: "ROOT_MISMATCH",
    },
    {
      name: "commitment changed",
      record: { ...used.record, credentialCommitment: flipBit(used.record.credentialCommitment, 7) },
      proof: used.proof,
      outcome: "ROOT_MISMATCH",
    },
    {
      name: "device key hash changed",
      record: { ...used.record, deviceKeyHash: flipBit(used.record.deviceKeyHash, 0) },
      proof: used.proof,
      outcome: "ROOT_MISMATCH",
    },
    {
      name: "status changed",
      record: { ...used.record, status: used.record.status === 1 ? 3 : 1 },
      proof: used.proof,
      outcome: "ROOT_MISMATCH",
    },
    { name: "reason changed", record: { ...used.record, reason: used.record.reason + 1 }, proof: used.proof, outcome: "ROOT_MISMATCH" },
    { name: "batch changed", record: { ...used.record, batch: used.record.batch + 1 }, proof: used.proof, outcome: "ROOT_MISMATCH" },
    {
      name: "index moved to another slot",
      record: { ...used.record, index: used.record.index ^ 1 },
      proof: used.proof,
      outcome: "ROOT_MISMATCH",
    },
    ...(other ? [{ name: "another record with this proof", record: other, proof: used.proof, outcome: "ROOT_MISMATCH" as const }] : []),
    { name: "used slot claimed unused", record: emptyRecord(used.record.index), proof: used.proof, outcome: "ROOT_MISMATCH" },
    {
      name: "unused slot claimed active",
      record: { ...record(unused.record.index, 1, 0, 1) },
      proof: unused.proof,
      outcome: "ROOT_MISMATCH",
    },
    { name: "proof one level short", record: used.record, proof: used.proof.slice(0, -1), outcome: "INVALID_PROOF_LENGTH" },
    { name: "proof one level long", record: used.record, proof: [...used.proof, used.proof[0]], outcome: "INVALID_PROOF_LENGTH" },
    {
      // the parent of the leaf, presented as the leaf of a tree one level shallower
      name: "inner node passed off as a leaf",
      record: { ...used.record, index: Math.floor(used.record.index / 2) },
      proof: used.proof.slice(1),
      outcome: "INVALID_PROOF_LENGTH",
    },
    {
      name: "index beyond the depth",
      record: { ...used.record, index: 2 ** depth + used.record.index },
      proof: used.proof,
      outcome: "INDEX_OUT_OF_RANGE",
    },
    { name: "unused slot with a non-zero field", record: { ...unused.record, batch: 1 }, proof: unused.proof, outcome: "INVALID_FIELD" },
    // reason codes stop at 5 (ADMINISTRATIVE): 6 and 255 are malformed, not merely another leaf
    { name: "unknown reason code 6", record: { ...used.record, reason: 6 }, proof: used.proof, outcome: "INVALID_FIELD" },
    { name: "unknown reason code 255", record: { ...used.record, reason: 255 }, proof: used.proof, outcome: "INVALID_FIELD" },
  ];
  return { name, depth, records, root, proofs, invalid };
}

function statusTreeVectors() {
  const small = [record(0, 1, 0, 1), record(1, 2, 1, 2), record(2, 3, 2, 2), record(7, 1, 0, 3), record(200, 3, 3, 4)];
  const wide = [record(0, 1, 0, 1), record(1, 1, 0, 1), record(65_536, 2, 1, 2), record(4_294_967_295, 3, 4, 5)];
  return {
    description: "Status tree vectors (docs/spec.md). Generated by scripts/generate-vectors.ts from test/reference.",
    emptySubtrees: Array.from({ length: 33 }, (_, height) => refEmpty(height)),
    encodings: small.map((r) => ({ record: r, bytes: refRecordBytes(r), leaf: refLeaf(r) })),
    trees: [
      { ...statusTreeCase("depth 8, five records", 8, small, [0, 1, 2, 3, 7, 200, 255]) },
      { ...statusTreeCase("depth 32, sparse", 32, wide, [0, 1, 2, 65_536, 4_294_967_295, 123_456_789]) },
      { ...statusTreeCase("depth 1, one record", 1, [record(1, 1, 0, 1)], [0, 1]) },
    ],
  };
}

function eventVectors() {
  const signer = "0x" + "ab".repeat(20);
  const applied: RefApplied[] = [
    { position: 0, kind: 1, signer, nonce: h("nonce A"), record: record(0, 1, 0, 1) },
    { position: 1, kind: 6, signer, nonce: h("nonce A"), record: record(1, 3, 2, 1) },
    { position: 2, kind: 5, signer: "0x" + "cd".repeat(20), nonce: h("nonce B"), record: record(2, 2, 1, 1) },
    { position: 3, kind: 3, signer, nonce: h("nonce C"), record: record(3, 1, 0, 1) },
    { position: 4, kind: 4, signer, nonce: h("nonce C"), record: record(4, 3, 4, 1) },
  ];
  const leaves = applied.map(refAppliedLeaf);
  const trees = [1, 2, 3, 4, 5].map((size) => {
    const subset = leaves.slice(0, size);
    return {
      size,
      root: refEventRoot(subset),
      receipts: subset.map((leaf, position) => ({ position, leaf, proof: refEventProof(subset, position) })),
    };
  });
  return {
    description: "Applied events and event-tree vectors (docs/spec.md). Generated by scripts/generate-vectors.ts.",
    applied: applied.map((event, i) => ({ event, bytes: refAppliedBytes(event), leaf: leaves[i] })),
    trees,
  };
}

const ZERO = `0x${"00".repeat(32)}`;
function event(
  kind: number,
  fields: Partial<{
    index: number;
    credentialCommitment: string;
    deviceKeyHash: string;
    channel: number;
    reason: number;
    grant: string;
  }>,
) {
  return { kind, index: 0, credentialCommitment: ZERO, deviceKeyHash: ZERO, channel: 0, reason: 0, grant: "0x", ...fields };
}

/** Compact wire form of one event, straight from the spec's table. */
function compact(e: ReturnType<typeof event>): string {
  switch (e.kind) {
    case 1:
      return solidityPacked(["uint8", "bytes32", "bytes32", "uint8"], [1, e.credentialCommitment, e.deviceKeyHash, e.channel]);
    case 2:
      return solidityPacked(["uint8", "uint64", "uint8"], [2, e.index, e.reason]);
    case 3:
      return solidityPacked(["uint8", "uint64", "uint8"], [3, e.index, e.reason]);
    case 4:
      return solidityPacked(["uint8", "uint64", "uint8"], [4, e.index, e.reason]);
    case 5:
      return solidityPacked(["uint8", "bytes32", "bytes"], [5, e.deviceKeyHash, e.grant]);
    case 6:
      return solidityPacked(
        ["uint8", "uint64", "bytes32", "bytes32", "uint8"],
        [6, e.index, e.credentialCommitment, e.deviceKeyHash, e.channel],
      );
    default:
      throw new Error(`kind ${e.kind}`);
  }
}

async function submissionVectors() {
  // Well-known development keys (Hardhat's accounts #1 and #2): test data only, never real keys.
  const devKey = (n: number) => HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, `m/44'/60'/0'/0/${n}`);
  const issuer = devKey(1);
  const operator = devKey(2);
  const domain = {
    name: "MobileIdStatusRegistry",
    version: "3",
    chainId: 31337,
    verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
  };
  const lockGrant = lockGrantVector(domain.chainId, domain.verifyingContract, operator.address, 1_900_000_600);
  const types = {
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
  const bulk = [
    event(1, { credentialCommitment: h("commitment 1"), deviceKeyHash: h("device 1"), channel: 1 }),
    event(1, { credentialCommitment: h("commitment 2"), deviceKeyHash: h("device 2"), channel: 2 }),
    event(2, { index: 0, reason: 3 }),
    event(3, { index: 0, reason: 3 }), // lifts the HOLDER_REQUEST suspension just above
    event(4, { index: 1, reason: 4 }),
    event(6, { index: 0, credentialCommitment: h("commitment 3"), deviceKeyHash: lockGrant.deviceKeyHash, channel: 2 }), // supersedes index 0
  ];
  const lock = [event(5, { deviceKeyHash: lockGrant.deviceKeyHash, grant: lockGrant.grant })];
  const submissions = [];
  // deadlines in unix seconds; intake blocks as the service stamps them (the block it read roles at)
  for (const [wallet, nonce, deadline, intakeBlock, events] of [
    [issuer, h("issuer nonce 1"), 1_900_000_000, 41, bulk],
    [operator, h("operator nonce 1"), 1_900_000_600, 42, lock],
  ] as const) {
    // the grant is not part of the signed type (docs/spec.md 4.6)
    const value = { nonce, deadline, events: events.map(({ grant: _grant, ...signed }) => signed) };
    const signature = await wallet.signTypedData(domain, types, value);
    submissions.push({
      signer: wallet.address.toLowerCase(),
      nonce,
      deadline,
      intakeBlock,
      events,
      digest: TypedDataEncoder.hash(domain, types, value),
      signature,
      // the same signature with v written 0/1: accepted, and anchored as above (v 27/28)
      signatureV01: concat([dataSlice(signature, 0, 64), toBeHex(Number(dataSlice(signature, 64)) - 27, 1)]),
      compactEvents: events.map(compact),
    });
  }
  const batchData = concat([
    solidityPacked(["uint8", "uint32"], [5, submissions.length]), // format 5: a LOCK_DEVICE carries its device's grant
    ...submissions.map((s) =>
      concat([
        s.nonce,
        solidityPacked(["uint64", "uint64"], [s.deadline, s.intakeBlock]),
        s.signature,
        solidityPacked(["uint32"], [s.events.length]),
        ...s.compactEvents,
      ]),
    ),
  ]);
  return {
    description: "EIP-712 submissions and anchor calldata (docs/spec.md). Generated by scripts/generate-vectors.ts.",
    domain,
    lockGrant,
    typeString: TypedDataEncoder.from(types).encodeType("Submission"),
    submissions,
    batchData,
    batchDataHash: refEventDataHash(batchData),
    // chunk boundaries: one byte, exactly one chunk, one chunk and a byte, several chunks
    eventDataHashes: [1, 8192, 8193, 20_000].map((length) => {
      const data = `0x${Buffer.from(Array.from({ length }, (_, i) => (i * 131 + 7) % 256)).toString("hex")}`;
      return { length, data, hash: refEventDataHash(data) };
    }),
  };
}

/**
 * docs/spec.md 4.5, computed with Node's own crypto (OpenSSL) for the P-256 point forms, not the
 * core's library: keccak256(tag || parts), the one variable-length part last.
 */
function identifierVectors() {
  const tagged = (tag: string, ...parts: string[]) => keccak256(concat([toUtf8Bytes(tag), ...parts]));
  // fixed private keys, so that the vectors are stable (test data, never real keys)
  const devices = [1, 2].map((n) => {
    const ecdh = createECDH("prime256v1");
    ecdh.setPrivateKey(Buffer.from(h(`device private key ${n}`).slice(2), "hex"));
    const uncompressed = `0x${ecdh.getPublicKey("hex", "uncompressed")}`;
    const compressed = `0x${ecdh.getPublicKey("hex", "compressed")}`;
    const jwk = { kty: "EC", crv: "P-256", x: b64url(dataSlice(uncompressed, 1, 33)), y: b64url(dataSlice(uncompressed, 33)) };
    return { jwk, uncompressed, compressed, deviceKeyHash: tagged("mobile-id/device-key/v1", compressed) };
  });
  const salt = h("credential salt 1");
  const credentials = ["KR-MID-2026-000001", "Führerschein 7"].map((credentialId) => ({
    credentialId,
    salt,
    credentialCommitment: tagged("mobile-id/credential/v1", salt, hexlify(toUtf8Bytes(credentialId))),
  }));
  const issuerHolderKey = h("issuer holder key");
  const holders = [
    { nationalId: "900101-1234567", normalised: "9001011234567" },
    { nationalId: "900101 1234567", normalised: "9001011234567" },
    { nationalId: "ab 12.34/5", normalised: "AB12345" },
  ].map((holder) => ({
    ...holder,
    holderRef: tagged("mobile-id/holder-ref/v1", issuerHolderKey, hexlify(toUtf8Bytes(holder.normalised))),
  }));
  return {
    description: "Identifier derivations (docs/spec.md 4.5). Generated by scripts/generate-vectors.ts.",
    devices,
    notOnCurve: { compressed: `0x02${"00".repeat(31)}01`, outcome: "INVALID_FIELD" },
    credentials,
    issuerHolderKey,
    holders,
  };
}

/**
 * A phone's grant of its lock to the operator (docs/spec.md 4.6): the message built here from the
 * spec, SHA-256 by Node's crypto, signed deterministically (RFC 6979) so the file is stable; the
 * tests verify the signature with Node's crypto (OpenSSL), not the core's library.
 */
function lockGrantVector(chainId: number, registry: string, operator: string, notAfter: number) {
  const devicePrivateKey = h("device private key 3");
  const ecdh = createECDH("prime256v1");
  ecdh.setPrivateKey(Buffer.from(devicePrivateKey.slice(2), "hex"));
  const devicePublicKey = `0x${ecdh.getPublicKey("hex", "compressed")}`;
  const deviceKeyHash = keccak256(concat([toUtf8Bytes("mobile-id/device-key/v1"), devicePublicKey]));
  const message = concat([toUtf8Bytes("mobile-id/lock-grant/v1"), toBeHex(chainId, 32), registry, operator, toBeHex(notAfter, 8)]);
  const digest = `0x${createHash("sha256")
    .update(Buffer.from(message.slice(2), "hex"))
    .digest("hex")}`;
  const signature = hexlify(p256.sign(digest.slice(2), devicePrivateKey.slice(2), { lowS: true }).toCompactRawBytes());
  const grant = concat([devicePublicKey, operator, toBeHex(notAfter, 8), signature]);
  return {
    devicePrivateKey,
    devicePublicKey,
    deviceKeyHash,
    operator: operator.toLowerCase(),
    notAfter,
    message,
    digest,
    signature,
    grant,
  };
}

function b64url(hex: string): string {
  return Buffer.from(hex.slice(2), "hex").toString("base64url");
}

async function main() {
  const write = (name: string, value: unknown) => {
    writeFileSync(path.join(OUT, name), JSON.stringify(value, null, 2) + "\n");
    console.log(`wrote test/vectors/${name}`);
  };
  write("status-tree.json", statusTreeVectors());
  write("event-tree.json", eventVectors());
  write("submissions.json", await submissionVectors());
  write("identifiers.json", identifierVectors());
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
