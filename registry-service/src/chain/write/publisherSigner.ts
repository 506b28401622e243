import { Transaction } from "ethers";
import { bytesToHex, hexToBytes, type Hasher, type Hex } from "../../core";
import { ChainError } from "../read";
import { signEip1559, type Eip1559Transaction } from "./rawTransaction";

/** Who signs the anchor transactions: a key this process holds, or a remote signer. */
export interface PublisherSigner {
  readonly address: string;
  /** The signed transaction's bytes, as hex, and its hash. */
  sign(tx: Eip1559Transaction): Promise<{ raw: Hex; hash: Hex }>;
}

/** A key held by this process (PUBLISHER_KEY), signed in bytes (rawTransaction.ts). */
export class LocalKeySigner implements PublisherSigner {
  constructor(
    readonly address: string,
    private readonly privateKey: Hex,
    private readonly hasher: Hasher,
  ) {}

  async sign(tx: Eip1559Transaction) {
    const signed = signEip1559(this.hasher, this.privateKey, tx);
    return { raw: `0x${Buffer.from(signed.raw).toString("hex")}` as Hex, hash: signed.hash };
  }
}

const quantity = (value: bigint | number) => `0x${value.toString(16)}`;

/**
 * A JSON-RPC remote signer holding the key (Web3Signer in eth1 mode, or any node with the account
 * unlocked): `eth_signTransaction` returns the signed bytes, which the service sends through its own
 * node (RPC_URL), so the signer never needs to reach the chain and a re-send is byte for byte the
 * same. The answer is checked: the bytes must be the transaction asked for, signed by `address`.
 */
export class RemoteSigner implements PublisherSigner {
  constructor(
    private readonly url: string,
    readonly address: string,
    private readonly hasher: Hasher,
    private readonly timeoutMs = 30_000,
  ) {}

  async sign(tx: Eip1559Transaction) {
    const request = {
      from: this.address,
      to: tx.to,
      type: "0x2",
      chainId: quantity(tx.chainId),
      nonce: quantity(tx.nonce),
      gas: quantity(tx.gasLimit),
      maxFeePerGas: quantity(tx.maxFeePerGas),
      maxPriorityFeePerGas: quantity(tx.maxPriorityFeePerGas),
      value: quantity(tx.value),
      data: bytesToHex(tx.data),
    };
    const raw = (await this.call("eth_signTransaction", [request])) as Hex;
    const parsed = Transaction.from(raw);
    const asked = parsed.nonce === tx.nonce && parsed.data === request.data && parsed.to?.toLowerCase() === tx.to.toLowerCase();
    if (!asked || parsed.from?.toLowerCase() !== this.address.toLowerCase())
      throw new ChainError(
        "ANCHOR_FAILED",
        `the remote signer at ${this.origin} signed another transaction or with another key than ${this.address}`,
      );
    return { raw, hash: bytesToHex(this.hasher.hash(hexToBytes(raw))) };
  }

  /** The accounts the signer holds (eth_accounts): the start-up check that it holds PUBLISHER_ADDRESS. */
  async accounts(): Promise<string[]> {
    return (await this.call("eth_accounts", [])) as string[];
  }

  private get origin() {
    return new URL(this.url).origin;
  }

  private async call(method: string, params: unknown[]): Promise<unknown> {
    const answer = await fetch(this.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
      signal: AbortSignal.timeout(this.timeoutMs),
    }).then(
      (response) => response.json() as Promise<{ result?: unknown; error?: { message: string } }>,
      (error: unknown) => {
        throw new ChainError("CHAIN_UNREACHABLE", `the remote signer at ${this.origin} does not answer: ${(error as Error).message}`);
      },
    );
    if (answer.error)
      throw new ChainError("ANCHOR_FAILED", `the remote signer at ${this.origin} refuses ${method}: ${answer.error.message}`);
    return answer.result;
  }
}
