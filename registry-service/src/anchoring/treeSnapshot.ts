import { open, readFile, rename } from "node:fs/promises";
import { readUint, StatusTree, writeUint, type BulkNodeHasher, type Hasher } from "../core";

/** The anchored status tree as of one batch, restored from disk. */
export interface TreeSnapshot {
  batch: number;
  tree: StatusTree;
}

/**
 * Writes the tree the service serves (anchored as of `batch`) so that the next start restores it
 * instead of re-hashing every leaf: batch(8) || StatusTree.snapshot() (which carries its own
 * checksum). Written to a temporary file, synced, then renamed: a crash leaves the old one or the new.
 */
export async function writeTreeSnapshot(file: string, batch: number, tree: StatusTree): Promise<void> {
  const head = new Uint8Array(8);
  writeUint(head, 0, 8, batch);
  const temporary = `${file}.tmp`;
  const handle = await open(temporary, "w");
  try {
    await handle.writev([head, ...tree.snapshot()]);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
}

/** The snapshot in `file`, or undefined when there is none or it does not read back intact (only a slower start). */
export async function readTreeSnapshot(file: string, hasher: Hasher, parallel?: BulkNodeHasher): Promise<TreeSnapshot | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch {
    return undefined;
  }
  try {
    return { batch: readUint(bytes, 0, 8), tree: StatusTree.restore(hasher, bytes.subarray(8), parallel) };
  } catch {
    return undefined;
  }
}
