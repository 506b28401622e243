import { existsSync, readFileSync } from "node:fs";
import type { Hex } from "../../../core";
import { usageError } from "../../errors";
import { writeFileDurably } from "../../durableFile";

/** What the service said to a chunk: accepted (with each event's index), or refused with its code. */
export type ChunkOutcome =
  | { status: number; batch: number; seq: number; intakeBlock: number; indexes: number[] }
  | { status: number; code: string; message: string };

/**
 * One chunk of a bulk run: lines [first, first + count) of the file's events, signed as one
 * submission. Stored before it is posted, so a run killed at any point resends exactly these
 * bytes (same nonce, same deadline): the service answers a resend with its first result.
 */
export interface ChunkRecord {
  first: number;
  count: number;
  /** salts generated for the chunk's new credentials, by line: the events are rebuilt from the file with them */
  salts: Record<string, Hex>;
  nonce: Hex;
  deadline: number;
  signature: Hex;
  /** earlier nonces it was signed under, which the service never accepted before their deadline passed */
  expired?: Hex[];
  outcome?: ChunkOutcome;
}

/** Which run a state file belongs to: the same input bytes, the same signer, the same registry. */
export interface RunIdentity {
  input: string;
  sha256: string;
  signer: string;
  domainHash: string;
}

interface StateFile extends RunIdentity {
  version: 1;
  chunks: ChunkRecord[];
}

/** A bulk run's state file (default `<file>.progress.json`): every write synced before the next step. */
export class BulkState {
  private constructor(
    readonly file: string,
    private readonly state: StateFile,
  ) {}

  /** The run's state: the one in `file` if it is this run's (else a usage error), or a new one. */
  static open(file: string, run: RunIdentity): BulkState {
    if (!existsSync(file)) return new BulkState(file, { version: 1, ...run, chunks: [] });
    let state: StateFile;
    try {
      state = JSON.parse(readFileSync(file, "utf8")) as StateFile;
    } catch (error) {
      throw usageError(`the state file ${file} is unreadable (${(error as Error).message}); move it away to start over`);
    }
    const differs = (["sha256", "signer", "domainHash"] as const).find((key) => state[key]?.toLowerCase() !== run[key].toLowerCase());
    if (state.version !== 1 || differs)
      throw usageError(
        `the state file ${file} belongs to another run (its ${differs ?? "version"} differs: another input, key or registry); give another --state, or move it away to start over`,
      );
    return new BulkState(file, state);
  }

  get chunks(): readonly ChunkRecord[] {
    return this.state.chunks;
  }

  /** The first event no chunk covers yet. */
  get planned(): number {
    return this.state.chunks.reduce((sum, chunk) => sum + chunk.count, 0);
  }

  add(chunk: ChunkRecord): void {
    this.state.chunks.push(chunk);
    this.save();
  }

  save(): void {
    writeFileDurably(this.file, JSON.stringify(this.state));
  }
}
