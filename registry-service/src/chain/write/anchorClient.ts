import { JsonRpcApiProvider, Wallet, type Provider } from "ethers";
import type { StatusRegistry } from "../../../../typechain-types";
import { hexToBytes, type AnchorPayload, type Hasher, type Hex } from "../../core";
import { ChainError, confirmedReceipt, describeRevert } from "../read";
import { LocalKeySigner, type PublisherSigner } from "./publisherSigner";
import { anchorCalldata } from "./rawTransaction";

/** Where an anchor transaction ended up. */
export interface AnchorReceipt {
  transactionHash: Hex;
  blockNumber: number;
}

/** What the anchorer needs from the chain (EthersAnchorChain below; fakes in tests). */
export interface AnchorChain {
  latestBatch(): Promise<{ batch: number; statusRoot: Hex }>;
  batchRoot(batch: number): Promise<Hex>;
  /** Sends the anchor transaction and resolves once it has the configured confirmations. */
  anchor(payload: AnchorPayload): Promise<AnchorReceipt>;
  /** The transaction that anchored `batch`, from the BatchAnchored logs. */
  findAnchor(batch: number): Promise<AnchorReceipt | undefined>;
  /** The admin's standing approval of a correction, if there is one (docs/runbook.md, divergence). */
  approvedCorrection(): Promise<{ base: number; through: number } | undefined>;
  /** Confirms that `batch` with `statusRoot` is still the current root (a heartbeat while idle, docs/spec.md 5.3). */
  heartbeat(batch: number, statusRoot: Hex): Promise<AnchorReceipt>;
}

/** A correction goes through anchorCorrection, with the same arguments as anchor. */
function anchorFunction(record: AnchorPayload): "anchor" | "anchorCorrection" {
  return record.correction ? "anchorCorrection" : "anchor";
}

/**
 * The fees of an EIP-1559 transaction, or undefined on a chain without a base fee. Not ethers'
 * getFeeData alone: it gives no maxFeePerGas when the base fee is zero (a free-gas consortium chain,
 * Besu's zeroBaseFee), which is still an EIP-1559 chain.
 */
async function eip1559Fees(provider: Provider): Promise<{ maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } | undefined> {
  const fees = await provider.getFeeData(); // reads the latest block itself: 2 x base fee + tip when the base fee is not 0
  const maxPriorityFeePerGas = fees.maxPriorityFeePerGas ?? 0n;
  if (fees.maxFeePerGas !== null) return { maxFeePerGas: fees.maxFeePerGas, maxPriorityFeePerGas };
  const block = await provider.getBlock("latest");
  if (block?.baseFeePerGas === null || block?.baseFeePerGas === undefined) return undefined;
  return { maxFeePerGas: block.baseFeePerGas * 2n + maxPriorityFeePerGas, maxPriorityFeePerGas };
}

/** Points in an anchor's life where the crash tests kill the process (see service/server.ts). */
export type AnchorStage = "before-send" | "after-send" | "after-mined";

/**
 * AnchorChain over ethers v6 and the TypeChain binding; `registry` is connected to the publisher
 * (or, with a remote `signer`, to the node only). On an EIP-1559 chain over JSON-RPC the anchor
 * transaction is encoded in bytes and signed by the `signer` (a remote one), else by the Wallet the
 * registry is connected to when a Hasher is given (rawTransaction.ts); otherwise ethers sends it.
 */
export class EthersAnchorChain implements AnchorChain {
  /** what every raw anchor transaction shares, looked up once */
  private target?: Promise<{ to: Hex; chainId: bigint }>;

  constructor(
    private readonly registry: StatusRegistry,
    private readonly confirmations = 1,
    /** called at each stage of an anchor; only fault-injection tests pass one */
    private readonly onStage: (stage: AnchorStage) => void = () => undefined,
    private readonly hasher?: Hasher,
    private readonly signer?: PublisherSigner,
  ) {}

  async latestBatch() {
    const latest = await this.registry.latestBatch();
    return { batch: Number(latest.batch), statusRoot: latest.statusRoot as Hex };
  }

  async batchRoot(batch: number) {
    return (await this.registry.batchInfo(batch)).statusRoot as Hex;
  }

  async anchor(record: AnchorPayload) {
    this.onStage("before-send");
    const data = anchorCalldata(this.registry.interface.getFunction(anchorFunction(record)).selector as Hex, record);
    const { batch, previousRoot, statusRoot, eventRoot, eventCount, eventData } = record;
    const viaEthers = () => this.registry[anchorFunction(record)](batch, previousRoot, statusRoot, eventRoot, eventCount, eventData);
    const hash = await this.send(data, viaEthers, `the anchor of batch ${record.batch}`);
    this.onStage("after-send");
    const receipt = await confirmedReceipt(this.provider(), hash, this.confirmations);
    if (receipt.status !== 1) throw new ChainError("ANCHOR_FAILED", `the anchor transaction of batch ${record.batch} failed`);
    this.onStage("after-mined");
    return { transactionHash: receipt.hash as Hex, blockNumber: receipt.blockNumber };
  }

  async heartbeat(batch: number, statusRoot: Hex) {
    const data = hexToBytes(this.registry.interface.encodeFunctionData("heartbeat", [batch, statusRoot]));
    const hash = await this.send(data, () => this.registry.heartbeat(batch, statusRoot), `the heartbeat of batch ${batch}`);
    const receipt = await confirmedReceipt(this.provider(), hash, this.confirmations);
    if (receipt.status !== 1) throw new ChainError("ANCHOR_FAILED", `the heartbeat transaction of batch ${batch} failed`);
    return { transactionHash: receipt.hash as Hex, blockNumber: receipt.blockNumber };
  }

  private provider() {
    return this.registry.runner!.provider!;
  }

  /**
   * Sends a call to the registry, `data` its calldata: signed in bytes by the remote signer or the
   * local key on an EIP-1559 chain over JSON-RPC, else by ethers (`viaEthers`). A refusal by the
   * registry (paused, role revoked, out of sequence) is named, not "unknown custom error 0x..".
   */
  private async send(data: Uint8Array, viaEthers: () => Promise<{ hash: string }>, what: string): Promise<string> {
    const signer = this.bytesSigner();
    const provider = this.provider();
    // fees only for a transaction signed here: ethers prices the ones it sends
    const fees = signer && provider instanceof JsonRpcApiProvider ? await eip1559Fees(provider) : undefined;
    const raw = signer && provider instanceof JsonRpcApiProvider && fees;
    return (raw ? this.sendRaw(data, provider, signer, fees) : viaEthers().then((tx) => tx.hash)).catch((error: unknown) => {
      const refusal = describeRevert(error);
      throw refusal ? new ChainError("ANCHOR_FAILED", `the registry refuses ${what}: ${refusal}`) : error;
    });
  }

  /** Who signs the bytes: the remote signer, else the Wallet's key (with a Hasher), else nobody (ethers sends). */
  private bytesSigner(): PublisherSigner | undefined {
    if (this.signer) return this.signer;
    const wallet = this.registry.runner instanceof Wallet ? this.registry.runner : undefined;
    return wallet && this.hasher ? new LocalKeySigner(wallet.address, wallet.privateKey as Hex, this.hasher) : undefined;
  }

  /** Has the transaction carrying `data` to the registry signed in bytes and sends it; resolves to its hash. */
  private async sendRaw(
    data: Uint8Array,
    provider: JsonRpcApiProvider,
    signer: PublisherSigner,
    fees: { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint },
  ): Promise<string> {
    this.target ??= Promise.all([this.registry.getAddress(), provider.getNetwork()]).then(([to, network]) => ({
      to: to as Hex,
      chainId: network.chainId,
    }));
    const { to, chainId } = await this.target;
    const [nonce, gasLimit] = await Promise.all([
      provider.getTransactionCount(signer.address, "pending"),
      provider.estimateGas({ from: signer.address, to, data: `0x${Buffer.from(data).toString("hex")}` }),
    ]);
    const signed = await signer.sign({ chainId, nonce, ...fees, gasLimit, to, value: 0n, data });
    // sent as is: ethers' broadcastTransaction would parse it back and hash it again in JavaScript
    await provider.send("eth_sendRawTransaction", [signed.raw]);
    return signed.hash;
  }

  async approvedCorrection() {
    const [base, through] = await this.registry.approvedCorrection();
    return through === 0n ? undefined : { base: Number(base), through: Number(through) };
  }

  async findAnchor(batch: number) {
    const [log] = await this.registry.queryFilter(this.registry.filters.BatchAnchored(batch));
    return log ? { transactionHash: log.transactionHash as Hex, blockNumber: log.blockNumber } : undefined;
  }
}
