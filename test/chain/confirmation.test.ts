import { expect } from "chai";
import type { Provider, TransactionReceipt, TransactionResponse } from "ethers";
import { ChainError, confirmedReceipt } from "../../registry-service/src/chain/read";

/** A node as the poller sees it: a block is mined before each receipt query; the transaction is in block `minedIn`. */
function scriptedNode(options: { minedIn?: number; known?: boolean }) {
  let head = 10;
  const calls: string[] = [];
  const provider = {
    async getBlockNumber() {
      calls.push(`head ${head}`);
      return head;
    },
    async getTransactionReceipt() {
      head++;
      calls.push("receipt");
      return options.minedIn !== undefined && head >= options.minedIn ? ({ blockNumber: options.minedIn } as TransactionReceipt) : null;
    },
    async getTransaction() {
      calls.push("transaction");
      return options.known === false ? null : ({} as TransactionResponse);
    },
  } as unknown as Provider;
  return { provider, calls };
}

describe("confirmedReceipt: an anchor's receipt, asked for directly", () => {
  it("waits until the receipt has the confirmations asked, counting its own block", async () => {
    const { provider, calls } = scriptedNode({ minedIn: 12 });
    const receipt = await confirmedReceipt(provider, "0xab", 3, 1);
    expect(receipt.blockNumber).to.equal(12);
    // block 11 before it is mined (still known to the node), then 12 (1 confirmation), 13 (2), 14 (3)
    expect(calls).to.deep.equal(["receipt", "transaction", "receipt", "head 12", "receipt", "head 13", "receipt", "head 14"]);
  });

  it("returns a receipt already mined with no later block at once: an idle chain never holds it back", async () => {
    const { provider } = scriptedNode({ minedIn: 0 });
    expect((await confirmedReceipt(provider, "0xab", 1, 1)).blockNumber).to.equal(0);
  });

  it("fails with ANCHOR_FAILED when the node no longer knows the transaction, so that it is sent again", async () => {
    const { provider } = scriptedNode({ known: false });
    const error = await confirmedReceipt(provider, "0xab", 1, 1).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ChainError);
    expect((error as ChainError).code).to.equal("ANCHOR_FAILED");
  });
});
