import { expect } from "chai";
import { JsonRpcProvider } from "ethers";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ChainError, RoleCache } from "../../registry-service/src/chain/read";

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
    const roles = new RoleCache(provider, "0x5FbDB2315678afecb367f032d93F642f64180aa3", 300);
    const error = await roles.rolesOf("0x00000000000000000000000000000000000000aa").catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ChainError).and.to.include({ code: "CHAIN_UNREACHABLE" });
    expect((error as Error).message).to.match(/no answer within 300 ms/);
  });
});
