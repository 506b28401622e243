import { expect } from "chai";
import { loadConfig, loggedConfig } from "../../registry-service/src/service/config";
import { capturedLog } from "../support/logs";

const KEY = `0x${"5a".repeat(32)}`;

describe("the service's logger", () => {
  it("redacts a publisher key and a body wherever a line carries them", () => {
    const log = capturedLog("info");
    log.logger.info({ PUBLISHER_KEY: KEY, config: { PUBLISHER_KEY: KEY }, body: { signature: "0xfeed" }, req: { body: "0xbeef" } }, "x");
    expect(log.lines()[0]).to.deep.include({ PUBLISHER_KEY: "[redacted]", config: { PUBLISHER_KEY: "[redacted]" }, body: "[redacted]" });
    expect(log.text()).not.to.match(/5a5a|feed|beef/);
  });

  it("logs the configuration with the key redacted and the RPC URL as its origin (no credentials, no API key)", () => {
    const config = loadConfig({
      REGISTRY_ADDRESS: `0x${"ab".repeat(20)}`,
      PUBLISHER_KEY: KEY,
      RPC_URL: "https://ops:s3cret@node.example:8545/v3/apikey",
    });
    expect(loggedConfig(config)).to.include({ PUBLISHER_KEY: "[redacted]", RPC_URL: "https://node.example:8545", PORT: 8080 });
  });

  it("logs an error by type, code, short message, stack and cause, not the transaction ethers attaches", () => {
    const log = capturedLog("info");
    const calldata = `0x${"c0de".repeat(1000)}`;
    const ethersError = Object.assign(new Error(`could not coalesce error (payload=${calldata})`, { cause: new Error("socket hang up") }), {
      code: "UNKNOWN_ERROR",
      shortMessage: "could not coalesce error",
      transaction: { data: calldata },
    });
    log.logger.warn({ err: ethersError }, "anchoring failed");
    const err = log.lines()[0].err as Record<string, unknown>;
    expect(err).to.include({ type: "Error", code: "UNKNOWN_ERROR", message: "could not coalesce error" });
    expect(err.stack).to.match(/^\s+at /);
    expect(err.cause).to.include({ message: "socket hang up" });
    expect(log.text()).not.to.contain("c0de");
  });
});
