import type { Provider } from "ethers";

/** What the chain says of an anchoring transaction once it is mined: its gas and its block's time. */
export interface AnchorFact {
  gasUsed: string;
  /** the block's timestamp, unix seconds */
  anchoredAt: number;
}

/**
 * Gas and time of anchoring transactions, asked for once each: a mined transaction's receipt and
 * block never change. Keeps the latest `keep` (the overviews show a few recent batches).
 */
export class AnchorFacts {
  private readonly known = new Map<string, Promise<AnchorFact | null>>();

  constructor(
    private readonly provider: Provider,
    private readonly keep = 256,
  ) {}

  /** The facts of `transactionHash` in `blockNumber`, or null when the node does not know them (yet). */
  of(transactionHash: string, blockNumber: number): Promise<AnchorFact | null> {
    const key = transactionHash.toLowerCase();
    let fact = this.known.get(key);
    if (!fact) {
      fact = this.ask(key, blockNumber);
      this.known.set(key, fact);
      if (this.known.size > this.keep) this.known.delete(this.known.keys().next().value!);
      // an answer the node could not give yet is asked for again next time
      void fact.then((found) => found ?? this.known.delete(key)).catch(() => this.known.delete(key));
    }
    return fact;
  }

  private async ask(transactionHash: string, blockNumber: number): Promise<AnchorFact | null> {
    const [receipt, block] = await Promise.all([this.provider.getTransactionReceipt(transactionHash), this.provider.getBlock(blockNumber)]);
    return receipt && block ? { gasUsed: receipt.gasUsed.toString(), anchoredAt: block.timestamp } : null;
  }
}
