import { expect } from "chai";
import { writeFileSync } from "node:fs";
import { journalUrl, loadConfig, loggedConfig } from "../../registry-service/src/service/config";
import { StartupError } from "../../registry-service/src/service/startup";
import { tempDir } from "../support/tempRegistry";

const valid = { REGISTRY_ADDRESS: `0x${"ab".repeat(20)}`, PUBLISHER_KEY: `0x${"11".repeat(32)}` };

describe("service configuration from the environment", () => {
  it("fills documented defaults and converts numbers", () => {
    const config = loadConfig({ ...valid, PORT: "9090" });
    expect(config).to.include({
      PORT: 9090,
      HOST: "127.0.0.1",
      RPC_URL: "http://127.0.0.1:8545",
      BATCH_INTERVAL_MS: 1000,
      CONFIRMATIONS: 1,
      LOG_LEVEL: "info",
    });
  });

  it("takes a remote signer instead of a key, and logs only its origin", () => {
    const config = loadConfig({
      REGISTRY_ADDRESS: valid.REGISTRY_ADDRESS,
      PUBLISHER_SIGNER_URL: "https://user:secret@signer.example:9000/path",
      PUBLISHER_ADDRESS: `0x${"cd".repeat(20)}`,
    });
    expect(loggedConfig(config)).to.include({ PUBLISHER_SIGNER_URL: "https://signer.example:9000", PUBLISHER_KEY: undefined });
  });

  it("takes a PostgreSQL journal by URL, its password from a file, and logs the URL without the password", () => {
    const temp = tempDir();
    try {
      writeFileSync(`${temp.dir}/password`, "s3cret/#\n");
      const config = loadConfig({ ...valid, JOURNAL_URL: "postgres://registry:inline@db.example:5432/mobile_id", LEASE_MS: "2000" });
      expect(config.LEASE_MS).to.equal(2000);
      expect(loggedConfig(config).JOURNAL_URL).to.equal("postgres://registry:%5Bredacted%5D@db.example:5432/mobile_id");
      const fromFile = loadConfig({
        ...valid,
        JOURNAL_URL: "postgres://registry@db:5432/mobile_id",
        JOURNAL_PASSWORD_FILE: `${temp.dir}/password`,
      });
      expect(new URL(journalUrl(fromFile)).password).to.equal(encodeURIComponent("s3cret/#"));
      const missing = loadConfig({ ...valid, JOURNAL_URL: "postgres://registry@db/mobile_id", JOURNAL_PASSWORD_FILE: `${temp.dir}/none` });
      expect(() => journalUrl(missing))
        .to.throw(StartupError)
        .with.property("message")
        .that.matches(/^JOURNAL_PASSWORD_FILE: /);
    } finally {
      temp.remove();
    }
  });

  for (const { title, env, mentions } of [
    { title: "a missing registry address", env: { PUBLISHER_KEY: valid.PUBLISHER_KEY }, mentions: /REGISTRY_ADDRESS/ },
    {
      title: "a registry address whose mixed case is not its checksum",
      env: { ...valid, REGISTRY_ADDRESS: "0x5FbDB2315678afecb367f032d93F642f64180aA3" },
      mentions: /REGISTRY_ADDRESS: .*checksum/,
    },
    { title: "a malformed publisher key", env: { ...valid, PUBLISHER_KEY: "0x1234" }, mentions: /PUBLISHER_KEY/ },
    {
      title: "both a publisher key and a remote signer",
      env: { ...valid, PUBLISHER_SIGNER_URL: "http://signer:9000", PUBLISHER_ADDRESS: `0x${"cd".repeat(20)}` },
      mentions: /PUBLISHER_KEY, PUBLISHER_SIGNER_URL: set either/,
    },
    { title: "no publisher at all", env: { REGISTRY_ADDRESS: valid.REGISTRY_ADDRESS }, mentions: /PUBLISHER_KEY: required/ },
    {
      title: "a remote signer without the account",
      env: { REGISTRY_ADDRESS: valid.REGISTRY_ADDRESS, PUBLISHER_SIGNER_URL: "http://signer:9000" },
      mentions: /PUBLISHER_ADDRESS: required/,
    },
    {
      title: "a remote signer URL without a scheme",
      env: { REGISTRY_ADDRESS: valid.REGISTRY_ADDRESS, PUBLISHER_SIGNER_URL: "signer:9000", PUBLISHER_ADDRESS: `0x${"cd".repeat(20)}` },
      mentions: /PUBLISHER_SIGNER_URL/,
    },
    { title: "a port that is not a number", env: { ...valid, PORT: "eighty" }, mentions: /PORT/ },
    { title: "a port above 65535", env: { ...valid, PORT: "65536" }, mentions: /PORT/ },
    { title: "a log level pino does not have", env: { ...valid, LOG_LEVEL: "loud" }, mentions: /LOG_LEVEL: .*info\|debug/ },
    { title: "an RPC URL without a scheme", env: { ...valid, RPC_URL: "localhost:8545" }, mentions: /RPC_URL/ },
    { title: "a journal URL that is not PostgreSQL's", env: { ...valid, JOURNAL_URL: "mysql://db/registry" }, mentions: /JOURNAL_URL/ },
    { title: "a lease too short to renew", env: { ...valid, JOURNAL_URL: "postgres://db/registry", LEASE_MS: "50" }, mentions: /LEASE_MS/ },
    { title: "a batch interval below 50 ms", env: { ...valid, BATCH_INTERVAL_MS: "5" }, mentions: /BATCH_INTERVAL_MS/ },
    {
      title: "batches too small for a re-issue once the priority lane has its share",
      env: { ...valid, BATCH_MAX_EVENTS: "2", PRIORITY_RESERVE_PERCENT: "10" },
      mentions: /PRIORITY_RESERVE_PERCENT: .* leaves 1 events .* a re-issue needs 2 events/,
    },
  ]) {
    it(`stops with one line naming ${title}`, () => {
      expect(() => loadConfig(env))
        .to.throw(Error)
        .with.property("message")
        .that.matches(mentions)
        .and.matches(/^invalid configuration: [^\n]+$/);
    });
  }
});
