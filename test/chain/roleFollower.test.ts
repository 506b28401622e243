import { expect } from "chai";
import hre from "hardhat";
import type { Hex } from "../../registry-service/src/core";
import { ChainError, ChainHistory, RoleFollower } from "../../registry-service/src/chain/read";
import { deployWithRoles } from "../support/fixtures";

describe("RoleFollower: intake's roles, followed from the chain's logs block by block", () => {
  it("answers with the roles at the block it read, and sees a grant or a revocation once it reads that block", async () => {
    const { registry, admin, stranger } = await deployWithRoles(8);
    const follower = new RoleFollower(new ChainHistory(hre.ethers.provider, await registry.getAddress()), 0);
    const account = stranger.address.toLowerCase() as Hex;
    const readAt = await follower.advance();
    expect(follower.rolesNow(account)).to.deep.equal({ roles: { issuer: false, operator: false }, block: readAt });

    const granted = await (await registry.connect(admin).grantRole(await registry.ISSUER_ROLE(), account)).wait();
    expect(follower.rolesNow(account).roles.issuer, "not before the block is read").to.equal(false);
    await follower.advance();
    expect(follower.rolesNow(account)).to.deep.equal({ roles: { issuer: true, operator: false }, block: granted!.blockNumber });

    const revoked = await (await registry.connect(admin).revokeRole(await registry.ISSUER_ROLE(), account)).wait();
    await follower.advance();
    expect(follower.rolesNow(account)).to.deep.equal({ roles: { issuer: false, operator: false }, block: revoked!.blockNumber });
  });

  it("refuses with CHAIN_UNREACHABLE before its first read and once its view is older than its bound", async () => {
    const { registry } = await deployWithRoles(8);
    let now = 1_000_000;
    const follower = new RoleFollower(new ChainHistory(hre.ethers.provider, await registry.getAddress()), 0, 30_000, () => now);
    const account = "0x00000000000000000000000000000000000000aa" as Hex;
    const refusal = () => {
      try {
        follower.rolesNow(account);
      } catch (error) {
        return error;
      }
      return undefined;
    };
    expect(refusal()).to.be.instanceOf(ChainError).and.to.include({ code: "CHAIN_UNREACHABLE" });
    const block = await follower.advance();
    now += 30_000;
    expect(refusal(), "still within its bound").to.equal(undefined);
    now += 1;
    expect(refusal()).to.be.instanceOf(ChainError).and.to.include({ code: "CHAIN_UNREACHABLE" });
    expect((refusal() as Error).message).to.contain(`at block ${block}`);
    expect(follower.rolesNow(account, true), "a lock goes on with the roles last read, stamped with their block").to.deep.equal({
      roles: { issuer: false, operator: false },
      block,
    });
  });
});
