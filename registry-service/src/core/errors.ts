/** Stable codes for everything the pure core refuses. Callers switch on `code`, never on text. */
export type CoreErrorCode =
  | "MALFORMED_BYTES"
  | "MALFORMED_HEX"
  | "INVALID_FIELD"
  | "INDEX_OUT_OF_RANGE"
  | "INVALID_DEPTH"
  | "INVALID_PROOF_LENGTH"
  | "ROOT_MISMATCH"
  | "INVALID_SIGNATURE"
  | "INVALID_SNAPSHOT"
  | "EMPTY_EVENT_TREE"
  | "STALE_UPDATE";

export class CoreError extends Error {
  constructor(
    readonly code: CoreErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "CoreError";
  }
}

/** A proof led to a different root than the one it was checked against (carries both). */
export class RootMismatchError extends CoreError {
  constructor(
    readonly expected: string,
    readonly computed: string,
  ) {
    super("ROOT_MISMATCH", `proof leads to root ${computed}, expected ${expected}`, { expected, computed });
    this.name = "RootMismatchError";
  }
}
