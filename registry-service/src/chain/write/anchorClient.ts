import { JsonRpcApiProvider, JsonRpcProvider, Wallet, type Provider } from "ethers";
import type { StatusRegistry } from "../../../../typechain-types";
import { bytesToHex, hexToBytes, type AnchorPayload, type Hasher, type Hex } from "../../core";
import { ChainError, confirmedReceipt, describeRevert } from "../read";
import { ANCHOR_FIXED_GAS, anchorGasPerByte, type ChainRules } from "./chainRules";
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
  /**
   * Sends the anchor transaction and resolves once the node has taken it, with the wait for its
   * confirmations: the anchorer keeps several in flight. Anchors sent one after another (each after
   * the previous send resolved) are mined in that order: one sender, consecutive nonces. Absent, or
   * resolving only once confirmed: one anchor at a time.
   */
  send?(payload: AnchorPayload): Promise<{ confirmed: Promise<AnchorReceipt> }>;
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

/** How long the fees read from the chain are used for the next anchors (a rejected send reads them again). */
const FEES_MAX_AGE_MS = 1000;

type Fees = { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint };

/**
 * AnchorChain over ethers v6 and the TypeChain binding; `registry` is connected to the publisher
 * (or, with a remote `signer`, to the node only). On an EIP-1559 chain over JSON-RPC the anchor
 * transaction is encoded in bytes and signed by the `signer` (a remote one), else by the Wallet the
 * registry is connected to when a Hasher is given (rawTransaction.ts); otherwise ethers sends it.
 * With the chain's `rules`, a raw anchor's gas limit is computed from its size (the bound its batch
 * was cut under, chainRules.ts) instead of estimated, and nonces are counted here: anchors can then
 * be sent before the previous one is mined (`send`), which an estimate would refuse as out of sequence.
 */
export class EthersAnchorChain implements AnchorChain {
  /** what every raw anchor transaction shares, looked up once */
  private target?: Promise<{ to: Hex; chainId: bigint }>;
  /** the publisher's next nonce, counted here after the node's first answer; forgotten after any failure */
  private nextNonce?: number;
  private fees?: { value: Fees | undefined; at: number };

  constructor(
    private readonly registry: StatusRegistry,
    private readonly confirmations = 1,
    /** called at each stage of an anchor; only fault-injection tests pass one */
    private readonly onStage: (stage: AnchorStage) => void = () => undefined,
    private readonly hasher?: Hasher,
    private readonly signer?: PublisherSigner,
    private readonly rules?: Pick<ChainRules, "gasPerDataByte">,
  ) {}

  async latestBatch() {
    const latest = await this.registry.latestBatch();
    return { batch: Number(latest.batch), statusRoot: latest.statusRoot as Hex };
  }

  async batchRoot(batch: number) {
    return (await this.registry.batchInfo(batch)).statusRoot as Hex;
  }

  async anchor(record: AnchorPayload) {
    return (await this.send(record)).confirmed;
  }

  async send(record: AnchorPayload) {
    this.onStage("before-send");
    const data = anchorCalldata(this.registry.interface.getFunction(anchorFunction(record)).selector as Hex, record);
    const { batch, previousRoot, statusRoot, eventRoot, eventCount, eventData } = record;
    const viaEthers = () => this.registry[anchorFunction(record)](batch, previousRoot, statusRoot, eventRoot, eventCount, eventData);
    // a computed gas limit (raw anchors, rules known): the send does not wait for the previous anchor
    const gasLimit = this.rules && BigInt(ANCHOR_FIXED_GAS + anchorGasPerByte(this.rules) * (eventData.length / 2 - 1));
    const what = `the anchor of batch ${record.batch}`;
    const { hash, raw } = await this.sendCall(data, viaEthers, what, gasLimit);
    this.onStage("after-send");
    const confirmed = this.confirmed(hash, data, what).then((receipt) => {
      this.onStage("after-mined");
      return receipt;
    });
    if (gasLimit === undefined || !raw) await confirmed; // sent by ethers, or its gas estimated: one at a time
    confirmed.catch(() => undefined); // the anchorer may drop it after an earlier anchor failed
    return { confirmed };
  }

  async heartbeat(batch: number, statusRoot: Hex) {
    const data = hexToBytes(this.registry.interface.encodeFunctionData("heartbeat", [batch, statusRoot]));
    const what = `the heartbeat of batch ${batch}`;
    const { hash } = await this.sendCall(data, () => this.registry.heartbeat(batch, statusRoot), what);
    return this.confirmed(hash, data, what);
  }

  private provider() {
    return this.registry.runner!.provider!;
  }

  /** `hash`'s receipt once confirmed; a reverted transaction is ANCHOR_FAILED, with the registry's refusal named when the call still fails. */
  private async confirmed(hash: string, data: Uint8Array, what: string): Promise<AnchorReceipt> {
    try {
      const receipt = await confirmedReceipt(this.provider(), hash, this.confirmations);
      if (receipt.status === 1) return { transactionHash: receipt.hash as Hex, blockNumber: receipt.blockNumber };
    } catch (error) {
      this.forget();
      throw error;
    }
    this.forget();
    const refusal = await this.refusal(data);
    throw new ChainError("ANCHOR_FAILED", refusal ? `the registry refuses ${what}: ${refusal}` : `the transaction of ${what} failed`);
  }

  /** Why the registry refuses this call now (the reason a mined transaction reverted with), if it does. */
  private async refusal(data: Uint8Array): Promise<string | undefined> {
    const from = this.bytesSigner()?.address ?? (this.registry.runner as { address?: string }).address;
    const to = await this.registry.getAddress();
    return this.provider()
      .call({ from, to, data: bytesToHex(data) })
      .then(
        () => undefined,
        (error: unknown) => describeRevert(error),
      );
  }

  /** After a failure the node is asked again for the nonce and the fees. */
  private forget(): void {
    this.nextNonce = undefined;
    this.fees = undefined;
  }

  /**
   * Sends a call to the registry, `data` its calldata: signed in bytes by the remote signer or the
   * local key on an EIP-1559 chain over JSON-RPC, else by ethers (`viaEthers`). A refusal by the
   * registry (paused, role revoked, out of sequence) is named, not "unknown custom error 0x..".
   */
  private async sendCall(
    data: Uint8Array,
    viaEthers: () => Promise<{ hash: string }>,
    what: string,
    gasLimit?: bigint,
  ): Promise<{ hash: string; raw: boolean }> {
    const signer = this.bytesSigner();
    const provider = this.provider();
    // fees only for a transaction signed here: ethers prices the ones it sends
    const fees = signer && provider instanceof JsonRpcApiProvider ? await this.currentFees(provider) : undefined;
    const raw = signer && provider instanceof JsonRpcApiProvider && fees;
    const sent = raw ? this.sendRaw(data, provider, signer, { ...fees, gasLimit }) : viaEthers().then((tx) => tx.hash);
    return sent.then(
      (hash) => ({ hash, raw: Boolean(raw) }),
      (error: unknown) => {
        this.forget();
        const refusal = describeRevert(error);
        throw refusal ? new ChainError("ANCHOR_FAILED", `the registry refuses ${what}: ${refusal}`) : error;
      },
    );
  }

  private async currentFees(provider: JsonRpcApiProvider): Promise<Fees | undefined> {
    if (this.fees && Date.now() - this.fees.at < FEES_MAX_AGE_MS) return this.fees.value;
    const value = await eip1559Fees(provider);
    this.fees = { value, at: Date.now() };
    return value;
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
    fees: Fees & { gasLimit?: bigint },
  ): Promise<string> {
    this.target ??= Promise.all([this.registry.getAddress(), provider.getNetwork()]).then(([to, network]) => ({
      to: to as Hex,
      chainId: network.chainId,
    }));
    const { to, chainId } = await this.target;
    const [nonce, gasLimit] = await Promise.all([
      this.nextNonce ?? provider.getTransactionCount(signer.address, "pending"),
      fees.gasLimit ?? provider.estimateGas({ from: signer.address, to, data: bytesToHex(data) }),
    ]);
    this.nextNonce = nonce + 1;
    const signed = await signer.sign({ chainId, nonce, ...fees, gasLimit, to, value: 0n, data });
    await sendRawTransaction(provider, signed.raw);
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

/**
 * eth_sendRawTransaction. Over HTTP the request body is written as bytes: ethers' own path turns the
 * 700 kB of hex into UTF-8 in JavaScript, a few milliseconds of the event loop per anchor. The
 * node's error comes back as the error ethers would have thrown.
 */
async function sendRawTransaction(provider: JsonRpcApiProvider, raw: Hex): Promise<void> {
  if (!(provider instanceof JsonRpcProvider)) {
    await provider.send("eth_sendRawTransaction", [raw]);
    return;
  }
  const payload = { method: "eth_sendRawTransaction", params: [raw], id: 1, jsonrpc: "2.0" as const };
  const request = provider._getConnection();
  request.body = Buffer.from(JSON.stringify(payload));
  request.setHeader("content-type", "application/json");
  const response = await request.send();
  response.assertOk();
  const answer = JSON.parse(response.bodyText) as { result?: string; error?: { code: number; message: string; data?: unknown } };
  if (answer.error) throw provider.getRpcError(payload, { id: 1, error: answer.error });
}
