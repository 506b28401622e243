/** CHAIN_DIVERGED: the chain holds an anchor this service did not make; CORRECTION_REFUSED: an approved correction does not fit this journal. */
export type AnchorErrorCode = "CHAIN_DIVERGED" | "CORRECTION_REFUSED";

/** The chain holds something this service did not prepare: stop, do not paper over it. */
export class AnchorError extends Error {
  constructor(
    readonly code: AnchorErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "AnchorError";
  }
}
