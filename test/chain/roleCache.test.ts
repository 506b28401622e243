import { expect } from "chai";
import { JsonRpcProvider } from "ethers";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import hre from "hardhat";
import type { Hex } from "../../registry-service/src/core";
import { ChainError, RoleCache } from "../../registry-service/src/chain/read";
import { deployWithRoles } from "../support/fixtures";

describe("RoleCache against a frozen chain node", () => {
  let server: Server;
  let provider: JsonRpcProvider;
  before(async () => {
    // accepts every request and never answers, as a node stuck in a long pause would
    server = createServer(() => undefined);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    provider = new JsonRpcProvider(url, 31337, { staticNetwork: true });
  });
  after(() => {
    provider.destroy();
    server.closeAllConnections();
    server.close();
  });

  it("refuses a new signer's role lookup with CHAIN_UNREACHABLE after its time limit instead of hanging", async () => {
    const roles = new RoleCache(provider, "0x5FbDB2315678afecb367f032d93F642f64180aa3", { timeoutMs: 300 });
    const error = await roles.rolesOf("0x00000000000000000000000000000000000000aa").catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ChainError).and.to.include({ code: "CHAIN_UNREACHABLE" });
    expect((error as Error).message).to.match(/no answer within 300 ms/);
  });
});

describe("RoleCache: bounded, so made-up signers cannot grow it for good", () => {
  it("keeps the most recently used signers up to its bound and asks the chain again for one it dropped", async () => {
    const { registry, issuer } = await deployWithRoles(8);
    let calls = 0;
    const counting = new Proxy(hre.ethers.provider, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (property !== "call" || typeof value !== "function") return typeof value === "function" ? value.bind(target) : value;
        return (...args: unknown[]) => (calls++, value.apply(target, args));
      },
    });
    const roles = new RoleCache(counting, await registry.getAddress(), { maxSigners: 2 });
    const [a, b, c] = [issuer.address, "0x00000000000000000000000000000000000000bb", "0x00000000000000000000000000000000000000cc"] as Hex[];
    const asked = async (account: Hex) => {
      const before = calls;
      await roles.rolesOf(account);
      return calls - before;
    };
    expect(await asked(a)).to.be.greaterThan(0);
    expect(await roles.rolesOf(a)).to.deep.equal({ issuer: true, operator: false });
    expect(await asked(b)).to.be.greaterThan(0);
    expect(await asked(a), "cached").to.equal(0);
    expect(await asked(c), "a third signer: the least recently used (b) is dropped").to.be.greaterThan(0);
    expect(await asked(a), "still cached").to.equal(0);
    expect(await asked(b), "dropped, so asked again").to.be.greaterThan(0);
  });
});
