import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { open, rename } from "node:fs/promises";
import { readUint, StatusTree, writeUint, type BulkNodeHasher, type Hasher, type SnapshotSource } from "../core";

/** Chunks per writev call (below the system's IOV_MAX). */
const WRITE_CHUNKS = 512;

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
    const chunks = [head, ...tree.snapshot()];
    for (let i = 0; i < chunks.length; i += WRITE_CHUNKS) await handle.writev(chunks.slice(i, i + WRITE_CHUNKS));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
}

/**
 * The snapshot in `file`, or undefined when there is none or it does not read back intact (only a
 * slower start). Read straight into the tree's storage, chunk by chunk: a national tree's snapshot
 * is gigabytes, more than one buffer may hold.
 */
export async function readTreeSnapshot(file: string, hasher: Hasher, parallel?: BulkNodeHasher): Promise<TreeSnapshot | undefined> {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return undefined;
  }
  try {
    const source = fileSource(fd);
    const head = new Uint8Array(8);
    source.read(head);
    return { batch: readUint(head, 0, 8), tree: StatusTree.restoreFrom(hasher, source, parallel) };
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** An open file as a SnapshotSource, read in order. */
function fileSource(fd: number): SnapshotSource {
  const size = fstatSync(fd).size;
  let offset = 0;
  return {
    read(into) {
      if (offset + into.length > size) throw new Error("the snapshot file is truncated");
      for (let done = 0; done < into.length;) {
        const read = readSync(fd, into, done, into.length - done, offset + done);
        if (read === 0) throw new Error("the snapshot file is truncated");
        done += read;
      }
      offset += into.length;
    },
    remaining: () => size - offset,
  };
}
