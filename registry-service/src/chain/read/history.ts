import { Contract, type EventLog, type Provider } from "ethers";
import { hexToBytes, readUint, type Hex } from "../../core";
import { REGISTRY_ABI, REGISTRY_INTERFACE } from "./registryAbi";

/** Where something happened on the chain, in chain order. */
export interface ChainPosition {
  blockNumber: number;
  transactionIndex: number;
}

/** One BatchAnchored event with the event data from its transaction's calldata. */
export interface AnchoredBatch extends ChainPosition {
  batch: number;
  previousRoot: Hex;
  statusRoot: Hex;
  eventRoot: Hex;
  eventCount: number;
  eventDataHash: Hex;
  transactionHash: Hex;
  /** the anchoring block's timestamp (unix seconds): signed deadlines are judged against it */
  timestamp: number;
  /** the anchor call's eventData, or why it could not be read from the transaction */
  eventData: Uint8Array | { unreadable: string };
}

/** Reads a registry's history from any JSON-RPC node: logs in bounded block ranges, then calldata. */
export class ChainHistory {
  readonly contract: Contract;

  constructor(
    readonly provider: Provider,
    readonly address: string,
    /** block span of one eth_getLogs call (public nodes cap it) */
    readonly blockSpan = 10_000,
  ) {
    this.contract = new Contract(address, REGISTRY_ABI, provider);
  }

  async head(): Promise<number> {
    return this.provider.getBlockNumber();
  }

  /** Logs of one event name, in chain order, between two blocks (inclusive). */
  async logs(name: "BatchAnchored" | "RoleGranted" | "RoleRevoked", fromBlock: number, toBlock: number): Promise<EventLog[]> {
    const found: EventLog[] = [];
    for (let from = fromBlock; from <= toBlock; from += this.blockSpan) {
      const to = Math.min(toBlock, from + this.blockSpan - 1);
      found.push(...((await this.contract.queryFilter(this.contract.filters[name](), from, to)) as EventLog[]));
    }
    return found;
  }

  /**
   * Anchored batches between two blocks, in order, their calldata fetched a few transactions at a
   * time as the caller consumes them: memory holds a handful of megabyte transactions, not a range.
   */
  async *anchors(fromBlock: number, toBlock: number, concurrency = 8): AsyncGenerator<AnchoredBatch> {
    const logs = await this.logs("BatchAnchored", fromBlock, toBlock);
    for (let at = 0; at < logs.length; at += concurrency) {
      yield* await Promise.all(logs.slice(at, at + concurrency).map((log) => this.anchorOf(log)));
    }
  }

  private async anchorOf(log: EventLog): Promise<AnchoredBatch> {
    const { batch, previousRoot, statusRoot, eventRoot, eventCount, eventDataHash } = log.args;
    const [timestamp, eventData] = await Promise.all([this.timestampOf(log.blockNumber), this.eventDataOf(log.transactionHash)]);
    return {
      batch: Number(batch),
      previousRoot,
      statusRoot,
      eventRoot,
      eventCount: Number(eventCount),
      eventDataHash,
      transactionHash: log.transactionHash as Hex,
      blockNumber: log.blockNumber,
      transactionIndex: log.transactionIndex,
      timestamp,
      eventData,
    };
  }

  private async timestampOf(blockNumber: number): Promise<number> {
    const block = await this.provider.getBlock(blockNumber);
    if (!block) throw new Error(`block ${blockNumber} is not served by this node`);
    return block.timestamp;
  }

  /**
   * The eventData argument of the anchor call. Only a direct call to the registry can be decoded
   * from the transaction; one made through another contract (a multisig) would need a trace.
   */
  private async eventDataOf(transactionHash: string): Promise<AnchoredBatch["eventData"]> {
    const tx = await this.provider.getTransaction(transactionHash);
    if (!tx) return { unreadable: `transaction ${transactionHash} is not served by this node` };
    if (tx.to?.toLowerCase() !== this.address.toLowerCase())
      return { unreadable: `transaction ${transactionHash} does not call the registry directly` };
    return anchorEventData(hexToBytes(tx.data)) ?? { unreadable: `transaction ${transactionHash} is not a well-formed anchor call` };
  }
}

const ANCHOR_SELECTOR = hexToBytes(REGISTRY_INTERFACE.getFunction("anchor")!.selector);
const EVENT_DATA_ARGUMENT = 5;

/**
 * The `eventData` bytes of an anchor call, sliced straight out of the ABI encoding rather than
 * decoded by ethers (which goes through hex strings; docs/performance.md).
 * Undefined unless it is an anchor call whose dynamic argument lies within the calldata.
 */
export function anchorEventData(calldata: Uint8Array): Uint8Array | undefined {
  if (calldata.length < 4 + 7 * 32 || !ANCHOR_SELECTOR.every((byte, i) => calldata[i] === byte)) return undefined;
  const word = (at: number) => {
    const high = calldata.subarray(at, at + 26);
    return high.length === 26 && high.every((byte) => byte === 0) ? readUint(calldata, at + 26, 6) : Number.MAX_SAFE_INTEGER;
  };
  const offset = 4 + word(4 + EVENT_DATA_ARGUMENT * 32);
  if (offset + 32 > calldata.length) return undefined;
  const length = word(offset);
  if (offset + 32 + length > calldata.length) return undefined;
  return calldata.subarray(offset + 32, offset + 32 + length);
}
