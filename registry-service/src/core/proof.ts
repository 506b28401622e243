import { bytesEqual, bytesToHex, hexToBytes, type Hex } from "./bytes";
import { CoreError, RootMismatchError } from "./errors";
import { EMPTY_LEAF, type Hasher } from "./hasher";
import { checkRecord, encodeRecord, Status, type StatusRecord } from "./record";

/** Largest depth the TypeScript side supports: indexes are JS numbers (exact up to 2^53). */
export const MAX_DEPTH = 52;

export function checkDepth(depth: number): void {
  if (!Number.isInteger(depth) || depth < 1 || depth > MAX_DEPTH) {
    throw new CoreError("INVALID_DEPTH", `tree depth must be an integer in 1..${MAX_DEPTH}, got ${depth}`, { depth });
  }
}

export function checkIndex(index: number, depth: number): void {
  if (!Number.isSafeInteger(index) || index < 0 || index >= 2 ** depth) {
    throw new CoreError("INDEX_OUT_OF_RANGE", `index ${index} is outside [0, 2^${depth})`, { index, depth });
  }
}

/** Leaf value of a record: EMPTY_LEAF for an unused slot, else keccak256(0x00 || encoding). */
export function recordLeaf(hasher: Hasher, record: StatusRecord): Uint8Array {
  checkRecord(record);
  return record.status === Status.None ? EMPTY_LEAF : hasher.leaf(encodeRecord(record));
}

/** The leaves of many records, as StatusTree.applyLeaves and previewRoot take them. */
export function recordLeaves(hasher: Hasher, records: readonly StatusRecord[]): { indexes: number[]; leaves: Uint8Array } {
  const leaves = new Uint8Array(records.length * 32);
  records.forEach((record, i) => leaves.set(recordLeaf(hasher, record), i * 32));
  return { indexes: records.map((record) => record.index), leaves };
}

/** A status proof: one sibling per level, leaf level first (docs/spec.md, "Proofs"). */
export type StatusProof = readonly string[];

/**
 * Root that `record` and `proof` lead to. Bit `level` of the index says whether the node at that
 * level is a right child. Throws on a malformed record, index or proof, never on a mismatch.
 */
export function computeStatusRoot(hasher: Hasher, record: StatusRecord, proof: StatusProof, depth: number): Hex {
  checkDepth(depth);
  checkIndex(record.index, depth);
  if (proof.length !== depth) {
    throw new CoreError("INVALID_PROOF_LENGTH", `a proof has ${depth} siblings, got ${proof.length}`, {
      expected: depth,
      given: proof.length,
    });
  }
  let node = recordLeaf(hasher, record);
  let index = record.index;
  for (let level = 0; level < depth; level++) {
    const sibling = hexToBytes(proof[level], 32, `proof[${level}]`);
    node = index % 2 === 0 ? hasher.node(node, sibling) : hasher.node(sibling, node);
    index = Math.floor(index / 2);
  }
  return bytesToHex(node);
}

/** Throws RootMismatchError (with both roots) unless `record` sits at its index under `root`. */
export function assertStatusProof(hasher: Hasher, root: Hex, record: StatusRecord, proof: StatusProof, depth: number): void {
  const computed = computeStatusRoot(hasher, record, proof, depth);
  if (!bytesEqual(hexToBytes(computed), hexToBytes(root, 32, "root"))) throw new RootMismatchError(root, computed);
}

/** Standalone check for verifiers: true only if the proof is well-formed and leads to `root`. */
export function verifyStatusProof(hasher: Hasher, root: Hex, record: StatusRecord, proof: StatusProof, depth: number): boolean {
  try {
    assertStatusProof(hasher, root, record, proof, depth);
    return true;
  } catch (error) {
    if (error instanceof CoreError) return false;
    throw error;
  }
}
