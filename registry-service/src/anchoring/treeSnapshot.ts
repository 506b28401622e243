import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { readUint, StatusTree, writeUint, type BulkNodeHasher, type Hasher, type SnapshotSource } from "../core";
import { writeChunksDurably } from "../journal";

/** The anchored status tree as of one batch, restored from disk. */
export interface TreeSnapshot {
  batch: number;
  tree: StatusTree;
}

/**
 * Writes the tree the service serves (anchored as of `batch`) so that the next start restores it
 * instead of re-hashing every leaf: batch(8) || StatusTree.snapshot() (which carries its own
 * checksum), written atomically: a crash leaves the old one or the new.
 */
export async function writeTreeSnapshot(file: string, batch: number, tree: StatusTree): Promise<void> {
  const head = new Uint8Array(8);
  writeUint(head, 0, 8, batch);
  await writeChunksDurably(file, [head, ...tree.snapshot()]);
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
