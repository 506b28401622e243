import { Contract, type EventLog, type Provider } from "ethers";
import { AppliedKind, bytesToHex, encodeAppliedEvent, Hasher, verifyEventReceipt, type AppliedEvent, type Hex } from "../core";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { lazyProvider, REGISTRY_ABI } from "../chain/read";
import { EventReceipt } from "../wire";

const receiptSchema = TypeCompiler.Compile(EventReceipt);

export interface VerifiedReceipt {
  /** true only if the event hashes to the leaf, the proof leads to the event root, and that root was anchored */
  verified: boolean;
  message: string;
  event: AppliedEvent;
  kind: string;
  batch: number;
  eventRoot: Hex;
  /** the anchoring transaction, from the chain (not from the source) */
  transactionHash?: Hex;
  blockNumber?: number;
  anchoredAt?: number;
}

/**
 * An event's proof of inclusion in an anchored batch (a lost-phone lock, say): the receipt comes
 * from a source, the batch's event root from the chain's BatchAnchored log.
 */
export async function verifyReceipt(options: {
  chain: Provider | string;
  registry: string;
  source: string;
  batch: number;
  position: number;
  timeoutMs?: number;
}): Promise<VerifiedReceipt> {
  const { batch, position } = options;
  const url = `${options.source.replace(/\/+$/, "")}/v1/batches/${batch}/receipts/${position}`;
  const response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 5000) });
  if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}: ${(await response.text()).slice(0, 200)}`);
  const body: unknown = await response.json();
  if (!receiptSchema.Check(body)) throw new Error(`${url} did not answer with a receipt: ${receiptSchema.Errors(body).First()?.message}`);
  const event = body.event;
  const hasher = await Hasher.create();
  const result = { event, kind: AppliedKind[event.kind] ?? String(event.kind), batch, eventRoot: body.eventRoot };
  const refuse = (message: string): VerifiedReceipt => ({ verified: false, message, ...result });

  if (event.position !== position) return refuse(`the source sent event ${event.position}, asked ${position}`);
  if (bytesToHex(hasher.leaf(encodeAppliedEvent(event))) !== body.leaf.toLowerCase())
    return refuse("the event does not hash to the receipt's leaf");
  if (!verifyEventReceipt(hasher, { leaf: body.leaf, proof: body.proof, root: body.eventRoot }))
    return refuse("the proof does not lead to the receipt's event root");

  const provider = await lazyProvider(options.chain, options.timeoutMs)();
  const registry = new Contract(options.registry, REGISTRY_ABI, provider);
  const info = await registry.batchInfo(batch).catch(() => undefined);
  if (!info) return refuse(`batch ${batch} is not anchored on the chain`);
  const block = Number(info.anchoredBlock);
  const [log] = (await registry.queryFilter(registry.filters.BatchAnchored(batch), block, block)) as EventLog[];
  if (!log) return refuse(`no BatchAnchored log for batch ${batch} in block ${block}`);
  const anchored = { transactionHash: log.transactionHash as Hex, blockNumber: block, anchoredAt: Number(info.anchoredAt) };
  if (log.args.eventRoot !== body.eventRoot.toLowerCase())
    return { ...refuse(`the chain anchored event root ${log.args.eventRoot} for batch ${batch}, not ${body.eventRoot}`), ...anchored };
  return {
    verified: true,
    message: `event ${position} of batch ${batch} (${result.kind} of index ${event.record.index}) is anchored`,
    ...result,
    ...anchored,
  };
}
