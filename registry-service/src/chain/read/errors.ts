/** Stable codes of the chain-access layer. */
export type ChainErrorCode =
  /** a chain call could not be made (node down, timeout, wrong URL); never a contract's answer */
  | "CHAIN_UNREACHABLE"
  /** the node answers for another chain than the one pinned (the deployment record's chain id) */
  | "WRONG_CHAIN"
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
