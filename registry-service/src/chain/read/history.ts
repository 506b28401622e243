import { Contract, JsonRpcProvider, type EventLog, type Provider } from "ethers";
import { hexToBytes, readUint, type Hex } from "../../core";
import { ChainError } from "./errors";
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
  /** set when the batch is a correction (BatchCorrected): it re-bases on `base`, striking base+1..through */
  correction?: Correction;
}

/** An admin-approved correction, as the BatchCorrected log states it (docs/spec.md 5.5). */
export interface Correction {
  base: number;
  through: number;
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
  async logs(
    name: "BatchAnchored" | "BatchCorrected" | "RoleGranted" | "RoleRevoked" | "RootAttested",
    fromBlock: number,
    toBlock: number,
  ): Promise<EventLog[]> {
    const found: EventLog[] = [];
    for (let from = fromBlock; from <= toBlock; from += this.blockSpan) {
      const to = Math.min(toBlock, from + this.blockSpan - 1);
      found.push(...((await this.contract.queryFilter(this.contract.filters[name](), from, to)) as EventLog[]));
    }
    return found;
  }

  /**
   * Anchored batches between two blocks, in order, their calldata fetched ahead as the caller
   * consumes them: `ahead` transactions are always asked for (the node serves them while the caller
   * replays the one it has), so memory holds a handful of megabyte transactions, not a range.
   */
  async *anchors(fromBlock: number, toBlock: number, ahead = 8): AsyncGenerator<AnchoredBatch> {
    const [logs, corrections] = await Promise.all([
      this.logs("BatchAnchored", fromBlock, toBlock),
      this.logs("BatchCorrected", fromBlock, toBlock),
    ]);
    const correctionOf = new Map(
      corrections.map(({ args }) => [Number(args.batch), { base: Number(args.base), through: Number(args.through) }]),
    );
    const pending: Promise<AnchoredBatch>[] = [];
    let next = 0;
    const fill = () => {
      for (; next < logs.length && pending.length < ahead; next++) {
        const read = this.anchorOf(logs[next], correctionOf.get(Number(logs[next].args.batch)));
        read.catch(() => undefined); // awaited in turn; a caller that stops early leaves no unhandled rejection behind
        pending.push(read);
      }
    };
    fill();
    while (pending.length > 0) {
      const anchor = await pending.shift()!;
      fill();
      yield anchor;
    }
  }

  private async anchorOf(log: EventLog, correction: Correction | undefined): Promise<AnchoredBatch> {
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
      ...(correction && { correction }),
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
    const tx = await this.transaction(transactionHash);
    if (!tx) return { unreadable: `transaction ${transactionHash} is not served by this node` };
    if (tx.to?.toLowerCase() !== this.address.toLowerCase())
      return { unreadable: `transaction ${transactionHash} does not call the registry directly` };
    return anchorEventData(hexToBytes(tx.data)) ?? { unreadable: `transaction ${transactionHash} is not a well-formed anchor call` };
  }

  /**
   * A transaction's recipient and calldata. From a JSON-RPC node, asked for through the provider's
   * own connection (its URL, headers, credentials) but decoded natively: ethers' UTF-8 decoder in
   * JavaScript took longer over a megabyte answer than the replay of its batch (docs/performance.md).
   */
  private async transaction(hash: string): Promise<{ to: string | null; data: string } | null> {
    if (!(this.provider instanceof JsonRpcProvider)) return this.provider.getTransaction(hash);
    const request = this.provider._getConnection();
    request.body = { jsonrpc: "2.0", id: 1, method: "eth_getTransactionByHash", params: [hash] };
    const response = await request.send();
    response.assertOk();
    const answer = JSON.parse(TEXT.decode(response.body ?? new Uint8Array())) as RpcAnswer;
    if (answer.error) throw new ChainError("CHAIN_UNREACHABLE", `eth_getTransactionByHash: ${answer.error.message}`);
    return answer.result ? { to: answer.result.to, data: answer.result.input } : null;
  }
}

const TEXT = new TextDecoder();

/** A JSON-RPC answer to eth_getTransactionByHash, as far as it is read here. */
interface RpcAnswer {
  result?: { to: string | null; input: string } | null;
  error?: { message: string };
}

/** anchor and anchorCorrection take the same arguments: eventData is the sixth of both */
const ANCHOR_SELECTORS = ["anchor", "anchorCorrection"].map((name) => hexToBytes(REGISTRY_INTERFACE.getFunction(name)!.selector));
const EVENT_DATA_ARGUMENT = 5;

/**
 * The `eventData` bytes of an anchor (or correction) call, sliced straight out of the ABI encoding rather than
 * decoded by ethers (which goes through hex strings; docs/performance.md).
 * Undefined unless it is an anchor call whose dynamic argument lies within the calldata.
 */
export function anchorEventData(calldata: Uint8Array): Uint8Array | undefined {
  const isAnchorCall = ANCHOR_SELECTORS.some((selector) => selector.every((byte, i) => calldata[i] === byte));
  if (calldata.length < 4 + 7 * 32 || !isAnchorCall) return undefined;
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
