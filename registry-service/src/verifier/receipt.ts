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

export interface ReceiptOptions {
  chain: Provider | string;
  registry: string;
  source: string;
  batch: number;
  position: number;
  timeoutMs?: number;
}

/**
 * An event's proof of inclusion in an anchored batch (a lost-phone lock, say): the receipt comes
 * from a source, the batch's event root from the chain's BatchAnchored log.
 */
export async function verifyReceipt(options: ReceiptOptions): Promise<VerifiedReceipt> {
  const { batch, position } = options;
  const body = await fetchReceipt(options);
  const event = body.event;
  const result = { event, kind: AppliedKind[event.kind] ?? String(event.kind), batch, eventRoot: body.eventRoot };
  const refuse = (message: string): VerifiedReceipt => ({ verified: false, message, ...result });
  const problem = receiptProblem(await Hasher.create(), body, position);
  if (problem) return refuse(problem);

  const registry = new Contract(options.registry, REGISTRY_ABI, await lazyProvider(options.chain, options.timeoutMs)());
  const info = await registry.batchInfo(batch).catch(() => undefined);
  if (!info) return refuse(`batch ${batch} is not anchored on the chain`);
  const block = Number(info.anchoredBlock);
  const [log] = (await registry.queryFilter(registry.filters.BatchAnchored(batch), block, block)) as EventLog[];
  if (!log) return refuse(`no BatchAnchored log for batch ${batch} in block ${block}`);
  const anchored = { transactionHash: log.transactionHash as Hex, blockNumber: block, anchoredAt: Number(info.anchoredAt) };
  if (log.args.eventRoot !== body.eventRoot.toLowerCase())
    return { ...refuse(`the chain anchored event root ${log.args.eventRoot} for batch ${batch}, not ${body.eventRoot}`), ...anchored };
  const message = `event ${position} of batch ${batch} (${result.kind} of index ${event.record.index}) is anchored`;
  return { verified: true, message, ...result, ...anchored };
}

/** The source's receipt, checked against the wire schema; throws when it has none. */
async function fetchReceipt(options: ReceiptOptions): Promise<EventReceipt> {
  const url = `${options.source.replace(/\/+$/, "")}/v1/batches/${options.batch}/receipts/${options.position}`;
  const response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 5000) });
  if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}: ${(await response.text()).slice(0, 200)}`);
  const body: unknown = await response.json();
  if (!receiptSchema.Check(body)) throw new Error(`${url} did not answer with a receipt: ${receiptSchema.Errors(body).First()?.message}`);
  return body;
}

/** Why a receipt does not prove its event into its event root, or undefined when it does. */
function receiptProblem(hasher: Hasher, body: EventReceipt, position: number): string | undefined {
  if (body.event.position !== position) return `the source sent event ${body.event.position}, asked ${position}`;
  if (bytesToHex(hasher.leaf(encodeAppliedEvent(body.event))) !== body.leaf.toLowerCase())
    return "the event does not hash to the receipt's leaf";
  if (!verifyEventReceipt(hasher, body.event, { leaf: body.leaf, proof: body.proof, root: body.eventRoot })) {
    return "the proof does not lead to the receipt's event root";
  }
  return undefined;
}
