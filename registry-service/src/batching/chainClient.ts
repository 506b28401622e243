import type { StatusRegistry } from "../../../typechain-types";
import type { Hex } from "../core";
import type { BatchRecord } from "../storage/registryStore";
import type { AnchorChain } from "./anchorer";

/** Points in an anchor's life where the crash tests kill the process (see server.ts). */
export type AnchorStage = "before-send" | "after-send" | "after-mined";

/** AnchorChain over ethers v6 and the TypeChain binding; `registry` is connected to the publisher. */
export class EthersAnchorChain implements AnchorChain {
  constructor(
    private readonly registry: StatusRegistry,
    private readonly confirmations = 1,
    /** called at each stage of an anchor; only fault-injection tests pass one */
    private readonly onStage: (stage: AnchorStage) => void = () => undefined,
  ) {}

  async latestBatch() {
    const latest = await this.registry.latestBatch();
    return { batch: Number(latest.batch), statusRoot: latest.statusRoot as Hex };
  }

  async batchRoot(batch: number) {
    return (await this.registry.batchInfo(batch)).statusRoot as Hex;
  }

  async anchor(record: BatchRecord) {
    this.onStage("before-send");
    const tx = await this.registry.anchor(
      record.batch,
      record.previousRoot,
      record.statusRoot,
      record.eventRoot,
      record.eventCount,
      record.eventData,
    );
    this.onStage("after-send");
    const receipt = (await tx.wait(this.confirmations))!;
    this.onStage("after-mined");
    return { transactionHash: receipt.hash as Hex, blockNumber: receipt.blockNumber };
  }

  async findAnchor(batch: number) {
    const [log] = await this.registry.queryFilter(this.registry.filters.BatchAnchored(batch));
    return log ? { transactionHash: log.transactionHash as Hex, blockNumber: log.blockNumber } : undefined;
  }
}
