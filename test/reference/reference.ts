/**
 * A deliberately naive second implementation of docs/spec.md, written from the spec with ethers'
 * encoders and nothing from registry-service. It generates the shared test vectors, so the fast
 * core is checked against something that did not share its code.
 */
import { concat, keccak256, solidityPacked, toBeHex, zeroPadValue } from "ethers";

export interface RefRecord {
  index: number;
  credentialCommitment: string;
  deviceKeyHash: string;
  status: number;
  reason: number;
  batch: number;
}

export const ZERO = zeroPadValue("0x", 32);

export function refRecordBytes(r: RefRecord): string {
  return solidityPacked(
    ["uint64", "bytes32", "bytes32", "uint8", "uint8", "uint64"],
    [r.index, r.credentialCommitment, r.deviceKeyHash, r.status, r.reason, r.batch],
  );
}

export function refLeaf(r: RefRecord | undefined): string {
  return r === undefined || r.status === 0 ? ZERO : keccak256(concat(["0x00", refRecordBytes(r)]));
}

export function refNode(left: string, right: string): string {
  return keccak256(concat(["0x01", left, right]));
}

const emptyMemo = [ZERO];
export function refEmpty(height: number): string {
  while (emptyMemo.length <= height) emptyMemo.push(refNode(emptyMemo[emptyMemo.length - 1], emptyMemo[emptyMemo.length - 1]));
  return emptyMemo[height];
}

/** Root of the subtree of `height` whose leftmost slot is `first`, by plain recursion. */
export function refSubtree(records: Map<number, RefRecord>, height: number, first: number): string {
  const inRange = [...records.keys()].some((i) => i >= first && i < first + 2 ** height);
  if (!inRange) return refEmpty(height);
  if (height === 0) return refLeaf(records.get(first));
  const half = 2 ** (height - 1);
  return refNode(refSubtree(records, height - 1, first), refSubtree(records, height - 1, first + half));
}

export function refRoot(records: Map<number, RefRecord>, depth: number): string {
  return refSubtree(records, depth, 0);
}

export function refProof(records: Map<number, RefRecord>, depth: number, index: number): string[] {
  const proof: string[] = [];
  for (let level = 0; level < depth; level++) {
    const siblingFirst = (Math.floor(index / 2 ** level) ^ 1) * 2 ** level;
    proof.push(refSubtree(records, level, siblingFirst));
  }
  return proof;
}

export function refFold(record: RefRecord, proof: string[]): string {
  let node = refLeaf(record);
  proof.forEach((sibling, level) => {
    node = Math.floor(record.index / 2 ** level) % 2 === 0 ? refNode(node, sibling) : refNode(sibling, node);
  });
  return node;
}

export interface RefApplied {
  position: number;
  kind: number;
  signer: string;
  nonce: string;
  record: RefRecord;
}

export function refAppliedBytes(e: RefApplied): string {
  return concat([
    solidityPacked(["uint32", "uint8", "address", "bytes32"], [e.position, e.kind, e.signer, e.nonce]),
    refRecordBytes(e.record),
  ]);
}

export function refAppliedLeaf(e: RefApplied): string {
  return keccak256(concat(["0x00", refAppliedBytes(e)]));
}

function sortedPair(a: string, b: string): string {
  return BigInt(a) <= BigInt(b) ? keccak256(concat([a, b])) : keccak256(concat([b, a]));
}

/** Event tree per the spec: pairwise sorted keccak, odd last node carried up unchanged. */
export function refEventRoot(leaves: string[]): string {
  let layer = leaves;
  while (layer.length > 1) {
    const next: string[] = [];
    for (let i = 0; i < layer.length; i += 2) next.push(i + 1 < layer.length ? sortedPair(layer[i], layer[i + 1]) : layer[i]);
    layer = next;
  }
  return layer[0];
}

export function refEventProof(leaves: string[], position: number): string[] {
  const proof: string[] = [];
  let layer = leaves;
  let at = position;
  while (layer.length > 1) {
    const sibling = at ^ 1;
    if (sibling < layer.length) proof.push(layer[sibling]);
    const next: string[] = [];
    for (let i = 0; i < layer.length; i += 2) next.push(i + 1 < layer.length ? sortedPair(layer[i], layer[i + 1]) : layer[i]);
    layer = next;
    at = Math.floor(at / 2);
  }
  return proof;
}

export function refUint(value: number, bytes: number): string {
  return toBeHex(value, bytes);
}

/** Event data hash per the spec: h = keccak256(h || chunk) over 8 KiB chunks, from h = 0. */
export function refEventDataHash(data: string): string {
  const bytes = Buffer.from(data.slice(2), "hex");
  let h = ZERO;
  for (let at = 0; at < bytes.length; at += 8192) h = keccak256(concat([h, bytes.subarray(at, at + 8192)]));
  return h;
}
