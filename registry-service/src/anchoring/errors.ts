export type AnchorErrorCode = "CHAIN_DIVERGED";

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
