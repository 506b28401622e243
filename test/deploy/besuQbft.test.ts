import { expect } from "chai";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { ConfigSchema } from "../../registry-service/src/service/config";
import { BESU_DIR, extraDataValidators, networkNodes } from "../../scripts/besu-network";
import { consortiumRules } from "../../scripts/embedded-chain";
import { OSAKA_TX_GAS_CAP } from "../../registry-service/src/chain/write";

const read = (file: string) => readFileSync(path.join(BESU_DIR, file), "utf8");
/** `key=value` lines of a TOML file, arrays joined (the files use no tables). */
const tomlArray = (text: string, key: string) =>
  [...(new RegExp(`^${key}=\\[([^\\]]*)\\]`, "m").exec(text)?.[1] ?? "").matchAll(/"([^"]+)"/g)].map((m) => m[1]);
const tomlValue = (text: string, key: string) => new RegExp(`^${key}=(.*)$`, "m").exec(text)?.[1]?.replace(/^"|"$/g, "");

type Compose = {
  services: Record<
    string,
    { command?: string[]; volumes?: string[]; environment?: Record<string, string>; build?: { context: string; dockerfile: string } }
  >;
  secrets: Record<string, { file: string }>;
  "x-besu": { image: string };
};

describe("deploy/besu-qbft: the consortium network definition is consistent", () => {
  const genesis = JSON.parse(read("genesis.json")) as {
    config: Record<string, unknown> & { qbft: Record<string, number> };
    gasLimit: string;
    extraData: string;
    alloc: Record<string, unknown>;
  };
  const nodes = networkNodes();
  const validators = nodes.filter((node) => node.name.startsWith("validator"));
  const compose = parse(read("compose.yaml")) as Compose;

  it("genesis: QBFT with its timings, zero base fee, Prague and Osaka from block 0, a block gas limit above one anchor's cap", () => {
    const { qbft } = genesis.config;
    expect(qbft.blockperiodseconds).to.be.within(1, 5);
    expect(qbft.requesttimeoutseconds, "a round outlasts two block periods").to.be.at.least(2 * qbft.blockperiodseconds);
    expect(qbft.epochlength).to.be.greaterThan(0);
    expect(genesis.config).to.include({ zeroBaseFee: true, pragueTime: 0, osakaTime: 0, londonBlock: 0 });
    // Besu (26.1 and later) runs no system call on a QBFT chain (no EIP-4788/2935 pre-execution call, no
    // EIP-7002/7251 request processing): a genesis with predeploys or request addresses would only mislead
    for (const contract of ["depositContractAddress", "withdrawalRequestContractAddress", "consolidationRequestContractAddress"])
      expect(genesis.config, contract).to.not.have.property(contract);
    expect(genesis.alloc, "no system-contract predeploys").to.deep.equal({});
    expect(compose["x-besu"].image, "a Besu release that skips them for QBFT").to.match(/hyperledger\/besu:(2[6-9]|[3-9]\d)\./);
    expect(consortiumRules().gasLimit).to.equal(Number(BigInt(genesis.gasLimit)));
    expect(Number(BigInt(genesis.gasLimit)), "one anchor of the transaction cap fits a block").to.be.at.least(OSAKA_TX_GAS_CAP);
  });

  it("four validators: extraData names exactly the addresses of the node keys listed", () => {
    expect(validators).to.have.length(4);
    for (const node of validators) expect(read(`nodes/${node.name}/address`).trim(), node.name).to.equal(node.address);
    expect(extraDataValidators(genesis.extraData)).to.have.members(validators.map((node) => node.address));
  });

  it("node configuration: each validator's key, genesis and allow-list are the ones in this directory, its peers the other validators", () => {
    const allowlist = tomlArray(read("permissions_config.toml"), "nodes-allowlist");
    expect(allowlist).to.include.members(nodes.map((node) => node.enode));
    for (const node of validators) {
      const toml = read(`nodes/${node.name}/config.toml`);
      expect(tomlValue(toml, "node-private-key-file"), node.name).to.equal(`/config/nodes/${node.name}/key`);
      expect(tomlValue(toml, "genesis-file")).to.equal("/config/genesis.json");
      expect(tomlValue(toml, "permissions-nodes-config-file")).to.equal("/config/permissions_config.toml");
      expect(tomlValue(toml, "min-gas-price")).to.equal("0");
      const others = validators.filter((other) => other !== node).map((other) => other.enode);
      expect(tomlArray(toml, "bootnodes"), node.name).to.have.members(others);
      expect(compose.services[node.name].command, node.name).to.deep.equal([`--config-file=/config/nodes/${node.name}/config.toml`]);
    }
  });

  it("compose: four validators, the service, a mirror and PostgreSQL; every file it names exists", () => {
    expect(Object.keys(compose.services)).to.include.members([
      ...validators.map((node) => node.name),
      "registry-service",
      "mirror",
      "postgres",
    ]);
    for (const [name, service] of Object.entries(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(":")[0];
        if (source.startsWith(".")) expect(existsSync(path.join(BESU_DIR, source)), `${name}: ${source}`).to.equal(true);
      }
      if (service.build) expect(existsSync(path.join(BESU_DIR, service.build.context, service.build.dockerfile)), name).to.equal(true);
    }
    // the secrets are made by the runbook: their directory and its instructions exist
    for (const secret of Object.values(compose.secrets)) expect(existsSync(path.dirname(path.join(BESU_DIR, secret.file)))).to.equal(true);
    expect(read("web3signer/keys/publisher.yaml")).to.match(/keystoreFile: "\/keys\/publisher\.json"/);
  });

  it("compose: the service's environment names are the service's settings, and it signs through the remote signer", () => {
    const environment = compose.services["registry-service"].environment!;
    const known = Object.keys(ConfigSchema.properties);
    for (const name of Object.keys(environment)) expect(known, name).to.include(name);
    expect(environment).to.include({ PUBLISHER_SIGNER_URL: "http://web3signer:9000" });
    expect(environment).not.to.have.property("PUBLISHER_KEY");
    expect(Object.keys(compose.services.mirror.environment!)).to.have.members(["RPC_URL", "REGISTRY_ADDRESS"]);
  });
});
