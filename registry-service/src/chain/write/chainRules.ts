import type { JsonRpcApiProvider } from "ethers";

/** EIP-7825 (Osaka): the most gas one transaction may use. */
export const OSAKA_TX_GAS_CAP = 2 ** 24;

/**
 * Gas an anchor spends besides its event data, with room to spare: about 82,000 measured, 17,100
 * more for a deployment's first anchor, the ABI head and padding (docs/gas.md).
 */
export const ANCHOR_FIXED_GAS = 120_000;

/** Execution gas per event-data byte beyond calldata (the chunked hash, memory): 0.3 measured, rounded up. */
const EXECUTION_GAS_PER_BYTE = 1;

/** How many non-zero calldata bytes the pricing probe sends. */
const PROBE_BYTES = 1000;

/** The rules of the chain that bound one anchor transaction, as read from the node. */
export interface ChainRules {
  /** the latest block's gas limit */
  blockGasLimit: number;
  /** the per-transaction gas cap (EIP-7825), if the chain has one */
  txGasCap?: number;
  /** where the cap came from: the node's eth_config (EIP-7910) or assumed because the node has no eth_config */
  txGasCapSource: "eth_config" | "assumed";
  /** gas per non-zero calldata byte the chain charges a data-heavy transaction: 16, or 40 under the EIP-7623 floor */
  gasPerDataByte: number;
}

/**
 * Reads the rules from any JSON-RPC node: the block gas limit from the latest block; the calldata
 * price from an estimate of a plain transfer carrying 1,000 non-zero bytes (21,000 + 16 per byte
 * before Prague, 21,000 + 40 per byte under EIP-7623's floor); the transaction gas cap from
 * eth_config (Osaka's P256VERIFY precompile, EIP-7951, marks Osaka rules), assumed when the node
 * has no eth_config (a wrong guess only makes batches smaller than they could be).
 */
export async function readChainRules(provider: JsonRpcApiProvider, from: string): Promise<ChainRules> {
  const data = `0x${"01".repeat(PROBE_BYTES)}`;
  const [block, estimate, config] = await Promise.all([
    provider.getBlock("latest"),
    provider.estimateGas({ from, to: from, data }),
    provider.send("eth_config", []).then(
      (answer: { current?: { precompiles?: Record<string, string> } }) => answer,
      () => undefined,
    ),
  ]);
  const gasPerDataByte = Math.round(Number(estimate - 21_000n) / PROBE_BYTES);
  const blockGasLimit = Number(block!.gasLimit);
  if (!config?.current) return { blockGasLimit, txGasCap: OSAKA_TX_GAS_CAP, txGasCapSource: "assumed", gasPerDataByte };
  const osaka = Object.keys(config.current.precompiles ?? {}).includes("P256VERIFY");
  return { blockGasLimit, txGasCap: osaka ? OSAKA_TX_GAS_CAP : undefined, txGasCapSource: "eth_config", gasPerDataByte };
}

/**
 * Gas an anchor may need per event-data byte under `rules`: the larger of the floor (calldata alone)
 * and the standard price plus execution. An anchor's gas limit is ANCHOR_FIXED_GAS plus this per
 * byte, the same bound its batch was cut under, so it never exceeds the chain's budget.
 */
export function anchorGasPerByte(rules: Pick<ChainRules, "gasPerDataByte">): number {
  return Math.max(rules.gasPerDataByte, 16 + EXECUTION_GAS_PER_BYTE);
}

/** The event-data bytes one anchor may carry under `rules`, and what bound it. */
export function anchorByteLimit(rules: ChainRules): {
  bytes: number;
  gasBudget: number;
  boundBy: "block gas limit" | "transaction gas cap";
} {
  const capped = rules.txGasCap !== undefined && rules.txGasCap < rules.blockGasLimit;
  const gasBudget = capped ? rules.txGasCap! : rules.blockGasLimit;
  const perByte = anchorGasPerByte(rules);
  return {
    bytes: Math.max(0, Math.floor((gasBudget - ANCHOR_FIXED_GAS) / perByte)),
    gasBudget,
    boundBy: capped ? "transaction gas cap" : "block gas limit",
  };
}

/** One line for the start-up log: the limit and the rules it came from. */
export function describeByteLimit(rules: ChainRules, configured: number): { maxBytes: number; line: string } {
  const limit = anchorByteLimit(rules);
  const maxBytes = Math.min(configured, limit.bytes);
  const cap = rules.txGasCap === undefined ? "none" : `${rules.txGasCap} (${rules.txGasCapSource})`;
  const floor = rules.gasPerDataByte > 16 ? `calldata floor ${rules.gasPerDataByte / 4}/${rules.gasPerDataByte}` : "calldata 4/16";
  const source = maxBytes === configured ? "BATCH_MAX_BYTES (the chain allows more)" : `the ${limit.boundBy}`;
  return {
    maxBytes,
    line: `batch limit: ${maxBytes} bytes from ${source}; chain: block gas limit ${rules.blockGasLimit}, tx cap ${cap}, ${floor} gas per byte, ${limit.bytes} bytes fit ${limit.gasBudget} gas`,
  };
}
