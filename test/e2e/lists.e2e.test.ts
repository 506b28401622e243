import { expect } from "chai";
import { devSubmitter, testPhone } from "../support/devices";
import { writeFileSync } from "node:fs";
import { id } from "ethers";
import { getListFromStatusListJWT } from "@sd-jwt/jwt-status-list";
import { Channel, EventKind, TokenStatus, type Hex } from "../../registry-service/src/core";
import { ListSigner } from "../../registry-service/src/readApi";
import { loadConfig } from "../../registry-service/src/service/config";
import { startService } from "../../registry-service/src/service/server";
import { startEmbeddedChain } from "../../scripts/embedded-chain";
import { chainCli } from "../support/cli";
import { devDeployment } from "../support/devDeployment";
import { silentLog } from "../support/logs";

const h = (label: string) => id(label) as Hex;

describe("end to end: the service publishes lists from its anchored view; the CLI verifies through them and audits them", function () {
  this.timeout(120_000);
  const cleanup: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it("a lock anchored shows in the next list; verify --via-list refuses it, audit --lists passes the lists", async () => {
    const chain = await startEmbeddedChain(0, 60_000, "hardhat");
    cleanup.push(() => chain.stop());
    const { temp, deployment, env, domain } = devDeployment(chain.rpcUrl, 32, { BATCH_INTERVAL_MS: "200" });
    cleanup.push(async () => temp.remove());
    const jwk = await ListSigner.generateJwk();
    const publicKey = (await ListSigner.fromJwk(jwk)).publicJwk;
    writeFileSync(`${temp.dir}/list-key.jwk`, JSON.stringify(jwk));
    writeFileSync(`${temp.dir}/list-key.public.jwk`, JSON.stringify(publicKey));
    const service = await startService(loadConfig({ ...env, LIST_SIGNING_KEY: `${temp.dir}/list-key.jwk` }), silentLog());
    cleanup.push(() => service.close());

    const submit = devSubmitter(service.url, domain);
    const issue = (who: string) => ({
      kind: EventKind.Issue,
      credentialCommitment: h(`c ${who}`),
      deviceKeyHash: testPhone(`${who} phone`).hash,
      channel: Channel.ChipCard,
    });
    /** The token list's entries once the list names at least `batch` (anchoring runs on its own clock). */
    const listAt = async (batch: number) => {
      for (let attempt = 0; attempt < 200; attempt++) {
        const response = await fetch(`${service.url}/v1/lists/token/0`);
        if (Number(response.headers.get("x-anchored-batch")) >= batch) return getListFromStatusListJWT(await response.text());
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`the list never reached batch ${batch}`);
    };

    expect((await submit(2, "issue", [issue("alice"), issue("bob")])).status).to.equal(202);
    expect((await listAt(1)).getStatus(0)).to.equal(TokenStatus.Valid);
    const locked = await submit(3, "lost", [{ kind: EventKind.LockDevice, deviceKeyHash: testPhone("alice phone").hash }]);
    const list = await listAt(locked.body.batch as number);
    expect([0, 1, 2].map((i) => list.getStatus(i))).to.deep.equal([TokenStatus.Suspended, TokenStatus.Valid, TokenStatus.NotIssued]);

    const cli = chainCli(chain.rpcUrl, deployment.address);
    const key = ["--list-key", `${temp.dir}/list-key.public.jwk`];
    const [alice, bob, noKey] = await Promise.all([
      cli("verify", "0", "--via-list", service.url, ...key),
      cli("verify", "1", "--via-list", "--source", service.url, ...key),
      cli("verify", "1", "--via-list", service.url),
    ]);
    expect(alice.status, alice.stderr).to.equal(1);
    expect(JSON.parse(alice.stdout)).to.include({ reason: "SUSPENDED" });
    expect(bob.status, bob.stderr).to.equal(0);
    expect(JSON.parse(bob.stdout)).to.include({ reason: "VALID", valid: true });
    expect([noKey.status, noKey.stderr.trim()]).to.deep.equal([
      2,
      "mobile-id: --via-list needs the issuer's list-signing public key: --list-key <jwk file> or LIST_PUBLIC_KEY",
    ]);

    const audited = await cli("audit", "--lists", service.url, ...key);
    expect(audited.status, audited.stderr).to.equal(0);
    const report = JSON.parse(audited.stdout);
    expect(report).to.include({ ok: true });
    expect(report.lists).to.deep.equal({ url: service.url, checked: 4 });
  });
});
