import { FetchRequest, JsonRpcProvider, Network, type Provider } from "ethers";
import { ChainError } from "./errors";

/** The node's chain id by one plain JSON-RPC request (no ethers provider, so no retry loop or log noise). */
export async function rpcChainId(rpcUrl: string, timeoutMs = 5000): Promise<bigint> {
  const response = await fetch(rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return BigInt(((await response.json()) as { result: string }).result);
}

/**
 * A JSON-RPC provider that fails fast instead of hanging: ethers' default provider retries network
 * detection forever when the node is down, so the chain id is fetched here once (with a timeout)
 * and the network is then fixed. Its response cache is off: a verifier wants the chain's word now.
 */
export async function connectRpc(rpcUrl: string, timeoutMs = 5000): Promise<JsonRpcProvider> {
  let chainId: bigint;
  try {
    chainId = await rpcChainId(rpcUrl, timeoutMs);
  } catch (error) {
    throw new ChainError("CHAIN_UNREACHABLE", `chain at ${rpcUrl} does not answer: ${(error as Error).message}`);
  }
  const request = new FetchRequest(rpcUrl);
  request.timeout = timeoutMs;
  const network = Network.from(chainId);
  return new JsonRpcProvider(request, network, { staticNetwork: network, cacheTimeout: -1, batchMaxCount: 1 });
}

/**
 * A provider given as an object is used as is; a URL is connected lazily, retried after failures.
 * With `chainId` the node must answer for that chain (permissioned chains often share default ids):
 * another one is refused with WRONG_CHAIN on every use.
 */
export function lazyProvider(chain: Provider | string, timeoutMs?: number, chainId?: bigint): () => Promise<Provider> {
  const connect = typeof chain === "string" ? () => connectRpc(chain, timeoutMs) : async () => chain;
  let pending: Promise<Provider> | undefined;
  return () => {
    pending ??= connect()
      .then((provider) => (chainId === undefined ? provider : pinned(provider, chainId)))
      .catch((error) => {
        pending = undefined;
        throw error;
      });
    return pending;
  };
}

async function pinned(provider: Provider, chainId: bigint): Promise<Provider> {
  let actual: bigint;
  try {
    actual = (await provider.getNetwork()).chainId;
  } catch (error) {
    throw new ChainError("CHAIN_UNREACHABLE", `the chain does not say its id: ${(error as Error).message.split("\n")[0]}`);
  }
  if (actual !== chainId)
    throw new ChainError("WRONG_CHAIN", `the chain node answers for chain ${actual}, not the registry's chain ${chainId}`);
  return provider;
}
