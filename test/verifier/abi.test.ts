import { expect } from "chai";
import { Interface } from "ethers";
import { StatusRegistry__factory } from "../../typechain-types";
import { REGISTRY_ABI } from "../../registry-service/src/verifier";

describe("verifier SDK: its hand-written ABI is the compiled contract's", () => {
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
