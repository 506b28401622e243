import type { Provider, TransactionReceipt } from "ethers";
import { ChainError } from "./errors";

/** How often a sent transaction's receipt is asked for: a fraction of any block time, one cheap call. */
const RECEIPT_POLL_MS = 100;

/**
 * Resolves with `hash`'s receipt once it has `confirmations` blocks (its own included), by asking
 * the node for the receipt and the head directly. Not ethers' `waitForTransaction`: that one waits
 * for a "block" event from a poller started afresh, whose first poll only sets its baseline, so a
 * transaction mined between its two calls on an idle automining chain is waited for until some
 * other block comes, possibly for ever. A transaction the node no longer knows (dropped from its
 * pool) is ANCHOR_FAILED: the anchorer sends the same bytes again. Used for anchors and admin transactions.
 */
export async function confirmedReceipt(
  provider: Provider,
  hash: string,
  confirmations: number,
  pollMs = RECEIPT_POLL_MS,
): Promise<TransactionReceipt> {
  for (;;) {
    const receipt = await provider.getTransactionReceipt(hash);
    if (receipt) {
      // a receipt is its own first confirmation: the head is asked for only when more are wanted
      if (confirmations <= 1 || (await provider.getBlockNumber()) - receipt.blockNumber + 1 >= confirmations) return receipt;
    } else if (!(await provider.getTransaction(hash))) {
      throw new ChainError("ANCHOR_FAILED", `the node no longer knows transaction ${hash}: it was dropped`);
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
