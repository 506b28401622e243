import { expect } from "chai";
import { Interface } from "ethers";
import { StatusRegistry__factory } from "../../typechain-types";
import { PUBLISHER_ROLE_NAME, SUBMITTER_ROLES, WITNESS_ROLE_NAME } from "../../registry-service/src/core";
import { REGISTRY_ABI } from "../../registry-service/src/chain/read";
import { roleId } from "../../registry-service/src/core";
import { deployWithRoles } from "../support/fixtures";

describe("chain/read: its hand-written ABI (the verifier SDK's) is the compiled contract's", () => {
  it("every function, event and error it declares exists with the same signature and outputs", () => {
    const sdk = new Interface(REGISTRY_ABI);
    const compiled = new Interface(StatusRegistry__factory.abi);
    let seen = 0;
    sdk.forEachFunction((fn) => {
      expect(compiled.getFunction(fn.selector)?.format("full"), fn.name).to.equal(fn.format("full"));
      seen++;
    });
    sdk.forEachEvent((event) => {
      expect(compiled.getEvent(event.topicHash)?.format("full"), event.name).to.equal(event.format("full"));
      seen++;
    });
    sdk.forEachError((error) => {
      expect(compiled.getError(error.selector)?.format("full"), error.name).to.equal(error.format("full"));
      seen++;
    });
    expect(seen).to.equal(REGISTRY_ABI.length);
  });
});

describe("chain/read: the roles table is the contract's", () => {
  it("every submitter role's id and the publisher's are keccak256 of the names in the core's table", async () => {
    const { registry } = await deployWithRoles(8);
    for (const name of [...Object.values(SUBMITTER_ROLES), PUBLISHER_ROLE_NAME, WITNESS_ROLE_NAME]) {
      expect(roleId(name), name).to.equal(await (registry as unknown as Record<string, () => Promise<string>>)[name]());
    }
  });
});
