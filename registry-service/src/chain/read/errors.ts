/** Stable codes of the chain-access layer. */
export type ChainErrorCode =
  /** a chain call could not be made (node down, timeout, wrong URL); never a contract's answer */
  | "CHAIN_UNREACHABLE"
  /** an anchor transaction was mined but reverted, or dropped */
  | "ANCHOR_FAILED";

/** The chain-access layer's one error type. */
export class ChainError extends Error {
  constructor(
    readonly code: ChainErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "ChainError";
  }
}
