import { expect } from "chai";
import { Transaction, Wallet, id, keccak256, toBeHex } from "ethers";
import { Hasher, type Hex } from "../../registry-service/src/core";
import { anchorCalldata, signEip1559 } from "../../registry-service/src/chain/write";
import { StatusRegistry__factory } from "../../typechain-types";
import { rng } from "../../bench/support";

describe("anchor transactions signed in bytes (rawTransaction.ts)", () => {
  let hasher: Hasher;
  before(async () => (hasher = await Hasher.create()));
  const registry = StatusRegistry__factory.createInterface();

  it("encodes anchor calldata exactly as the ABI coder does, for event data of every padding", () => {
    for (const length of [1, 31, 32, 33, 1000, 70_001]) {
      const record = {
        batch: 2 ** 40 + length,
        previousRoot: id("p") as Hex,
        statusRoot: id("s") as Hex,
        eventRoot: id("e") as Hex,
        eventCount: 4_000_000_000,
        eventData: toBeHex(7n, length) as Hex,
      };
      const expected = registry.encodeFunctionData("anchor", [
        record.batch,
        record.previousRoot,
        record.statusRoot,
        record.eventRoot,
        record.eventCount,
        record.eventData,
      ]);
      expect(
        `0x${Buffer.from(anchorCalldata(registry.getFunction("anchor")!.selector as Hex, record)).toString("hex")}`,
        `${length} bytes`,
      ).to.equal(expected);
    }
  });

  it("signs byte for byte what ethers signs: zero and large fields, short and long data, both parities", async () => {
    const random = rng(7);
    const parities = new Set<number>();
    for (let i = 0; i < 24; i++) {
      const wallet = new Wallet(id(`key ${i}`));
      const size = [0, 1, 55, 56, 300, 350_000][i % 6];
      const data = Uint8Array.from({ length: size }, () => Math.floor(random() * 256));
      if (size === 1) data[0] = i % 2 ? 0x05 : 0x85; // a single byte below 0x80 is its own RLP
      const tx = {
        chainId: [1n, 31337n, 2n ** 40n][i % 3],
        nonce: [0, 1, 127, 128, 70_000][i % 5],
        maxPriorityFeePerGas: BigInt(i) * 1_000_000_000n,
        maxFeePerGas: 2n ** 64n + BigInt(i),
        gasLimit: 16_777_216n,
        to: wallet.address.toLowerCase() as Hex,
        value: i % 4 === 0 ? 0n : 10n ** 18n,
        data,
      };
      const mine = signEip1559(hasher, wallet.privateKey as Hex, tx);
      const theirs = await wallet.signTransaction({ type: 2, ...tx, data: `0x${Buffer.from(data).toString("hex")}`, accessList: [] });
      expect(`0x${Buffer.from(mine.raw).toString("hex")}`, `case ${i}`).to.equal(theirs);
      expect(mine.hash).to.equal(keccak256(theirs));
      const parsed = Transaction.from(theirs);
      expect(parsed.from).to.equal(wallet.address);
      parities.add(parsed.signature!.yParity);
    }
    expect([...parities].sort()).to.deep.equal([0, 1]);
  });
});
