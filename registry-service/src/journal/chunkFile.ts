import { open, rename, rm, type FileHandle } from "node:fs/promises";
import path from "node:path";

/** Most bytes one read or write call moves (a system call moves at most about 2 GiB). */
const MOST_BYTES = 256 * 2 ** 20;
/** Most chunks one writev call takes (below the system's IOV_MAX). */
const MOST_CHUNKS = 512;

/**
 * Writes `chunks` to `file` so that a crash leaves the old file or the new one, never a torn mix:
 * into `file.tmp`, synced, renamed over `file`, the rename synced with its directory. The chunks are
 * taken from the iterable as they are written, so a generator's are made a group at a time: a
 * file of gigabytes (the state checkpoint, the tree snapshot) needs no buffer of its size.
 */
export async function writeChunksDurably(file: string, chunks: Iterable<Uint8Array>): Promise<void> {
  const temporary = `${file}.tmp`;
  const handle = await open(temporary, "w");
  try {
    for (const group of groups(chunks)) {
      const expected = group.reduce((sum, chunk) => sum + chunk.length, 0);
      const { bytesWritten } = await handle.writev(group);
      if (bytesWritten !== expected) throw new Error(`short write to ${temporary}: ${bytesWritten} of ${expected} bytes`);
    }
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  await rename(temporary, file);
  const directory = await open(path.dirname(path.resolve(file)), "r");
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

/** The chunks in groups of at most MOST_CHUNKS pieces and MOST_BYTES bytes (a larger chunk is cut into views). */
function* groups(chunks: Iterable<Uint8Array>): Generator<Uint8Array[]> {
  let group: Uint8Array[] = [];
  let bytes = 0;
  for (const chunk of chunks) {
    for (let at = 0; at < chunk.length; at += MOST_BYTES) {
      const piece = chunk.subarray(at, at + MOST_BYTES);
      if (group.length === MOST_CHUNKS || bytes + piece.length > MOST_BYTES) {
        yield group;
        [group, bytes] = [[], 0];
      }
      group.push(piece);
      bytes += piece.length;
    }
  }
  if (group.length > 0) yield group;
}

/** A file read from its start in order, straight into the caller's arrays (no buffer of the file's size). */
export class ChunkFileReader {
  private offset = 0;

  private constructor(
    private readonly handle: FileHandle,
    /** the file's length in bytes */
    readonly size: number,
  ) {}

  /** `file` opened for reading, or undefined when there is no such file. */
  static async open(file: string): Promise<ChunkFileReader | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(file, "r");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    return new ChunkFileReader(handle, (await handle.stat()).size);
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.size - this.offset;
  }

  /** Fills `into` with the next bytes; throws when the file ends first. */
  async read(into: Uint8Array): Promise<Uint8Array> {
    if (into.length > this.remaining) throw new Error(`the file ends ${into.length - this.remaining} bytes early`);
    for (let done = 0; done < into.length;) {
      const length = Math.min(into.length - done, MOST_BYTES);
      const { bytesRead } = await this.handle.read(into, done, length, this.offset + done);
      if (bytesRead === 0) throw new Error("the file ends early (it shrank while read)");
      done += bytesRead;
    }
    this.offset += into.length;
    return into;
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}
