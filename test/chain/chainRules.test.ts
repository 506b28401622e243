import { expect } from "chai";
import { anchorByteLimit, describeByteLimit, OSAKA_TX_GAS_CAP, type ChainRules } from "../../registry-service/src/chain/write";

describe("the anchor's byte limit from the chain's rules", () => {
  const osaka: ChainRules = { blockGasLimit: 30_000_000, txGasCap: OSAKA_TX_GAS_CAP, txGasCapSource: "eth_config", gasPerDataByte: 40 };
  for (const { title, rules, bytes, boundBy } of [
    {
      title: "Osaka: the transaction cap binds, at the floor's 40 gas per byte",
      rules: osaka,
      bytes: 416_430,
      boundBy: "transaction gas cap",
    },
    {
      title: "a block gas limit under the cap binds",
      rules: { ...osaka, blockGasLimit: 8_000_000 },
      bytes: 197_000,
      boundBy: "block gas limit",
    },
    {
      title: "Cancun: no cap, no floor: 16 gas per byte and 1 of execution",
      rules: { blockGasLimit: 30_000_000, txGasCapSource: "eth_config", gasPerDataByte: 16 } as ChainRules,
      bytes: 1_757_647,
      boundBy: "block gas limit",
    },
  ]) {
    it(title, () => expect(anchorByteLimit(rules)).to.deep.include({ bytes, boundBy }));
  }

  it("keeps BATCH_MAX_BYTES when it is lower, and says which bound holds", () => {
    expect(describeByteLimit(osaka, 350_000)).to.deep.include({ maxBytes: 350_000 });
    expect(describeByteLimit(osaka, 350_000).line).to.match(/^batch limit: 350000 bytes from BATCH_MAX_BYTES/);
    const lowered = describeByteLimit(osaka, 1_000_000);
    expect(lowered.maxBytes).to.equal(416_430);
    expect(lowered.line).to.match(
      /^batch limit: 416430 bytes from the transaction gas cap; chain: block gas limit 30000000, tx cap 16777216 \(eth_config\), calldata floor 10\/40/,
    );
  });
});
