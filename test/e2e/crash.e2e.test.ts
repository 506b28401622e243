import { expect } from "chai";
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { JsonRpcProvider, id } from "ethers";
import { StatusRegistry__factory } from "../../typechain-types";
import { blankEvent, Channel, EventKind, Status, type Hex } from "../../registry-service/src/core";
import { submitSigned } from "../../registry-service/src/client/submissionClient";
import { devAccount, startEmbeddedChain, type ChainKind, type EmbeddedChain } from "../../scripts/embedded-chain";
import { startServiceProcess } from "../../scripts/service-process";
import { devDeployment } from "../support/devDeployment";
import { freshDatabase } from "../support/postgres";
import { expectChainReplays } from "../support/replay";

const h = (label: string) => id(label) as Hex;

const ALL_POINTS = ["before-send", "after-send", "after-mined", "under load"];

/**
 * On Hardhat's automining chain, then under the consortium's rules (anvil, 1 s interval blocks: a
 * crash can fall between send and block), with the LevelDB journal at every point; and with the
 * PostgreSQL journal (JOURNAL_URL: the restarted process takes the lease over first) at the point
 * whose repair differs most (sent, not recorded) and under load, to keep the suite's time
 * (CRASH_POSTGRES_ALL=1: every point, under the consortium's rules).
 */
for (const [kind, journal, points] of [
  ["hardhat", "LevelDB", ALL_POINTS],
  ["consortium", "LevelDB", ALL_POINTS],
  process.env.CRASH_POSTGRES_ALL ? ["consortium", "PostgreSQL", ALL_POINTS] : ["hardhat", "PostgreSQL", ["after-send", "under load"]],
] as [ChainKind, string, string[]][]) {
  describe(`crash tests on ${kind}, ${journal} journal: the service killed with SIGKILL at each point of anchoring, then restarted`, function () {
    this.timeout(300_000);
    let chain: EmbeddedChain;
    let provider: JsonRpcProvider;
    const children: ChildProcess[] = [];
    before(async () => {
      chain = await startEmbeddedChain(0, 60_000, kind, { blockTime: 1 });
      provider = new JsonRpcProvider(chain.rpcUrl, undefined, { cacheTimeout: -1 });
    });
    after(async () => {
      for (const child of children) child.kill("SIGKILL");
      provider.destroy();
      await chain.stop();
    });

    for (const crashAt of points) {
      it(`${crashAt}: nothing acknowledged is lost, no batch number carries two anchors, roots equal the chain's`, async () => {
        const postgres: Record<string, string> = journal === "PostgreSQL" ? { JOURNAL_URL: await freshDatabase(), LEASE_MS: "1000" } : {};
        const { temp, deployment, env, domain } = devDeployment(chain.rpcUrl, 32, { BATCH_INTERVAL_MS: "150", ...postgres });
        const acknowledged: number[] = [];
        let counter = 0;
        const submit = async (url: string) => {
          const k = counter++;
          const event = {
            ...blankEvent(EventKind.Issue),
            credentialCommitment: h(`c ${k}`),
            deviceKeyHash: h(`d ${k}`),
            channel: Channel.ChipCard,
          };
          const answer = await submitSigned(url, devAccount(2), domain, { nonce: h(`nonce ${k}`), events: [event] });
          if (answer.status !== 202) throw new Error(`HTTP ${answer.status}`);
          acknowledged.push(answer.body.applied![0].record.index);
        };

        const first = await startServiceProcess(crashAt === "under load" ? env : { ...env, REGISTRY_CRASH_AT: crashAt });
        children.push(first.child);
        for (let i = 0; i < 40; i++) {
          if (crashAt === "under load" && i === 25) first.child.kill("SIGKILL");
          try {
            await submit(first.url);
          } catch {
            break; // the process is gone: what was acknowledged so far is what must survive
          }
        }
        if (crashAt === "under load") {
          first.child.kill("SIGKILL");
        } else {
          // it must die by its own hand at that stage of its first anchor, not by ours
          for (let i = 0; i < 100 && first.child.exitCode === null && first.child.signalCode === null; i++)
            await new Promise((r) => setTimeout(r, 100));
          expect(first.child.signalCode, `the service killed itself ${crashAt}`).to.equal("SIGKILL");
        }
        expect(await first.exited).to.equal("SIGKILL");
        expect(acknowledged.length).to.be.greaterThan(0);

        const second = await startServiceProcess(env);
        children.push(second.child);
        await submit(second.url);
        const registry = StatusRegistry__factory.connect(deployment.address, provider);
        for (let attempt = 0; ; attempt++) {
          const views = await Promise.all(
            acknowledged.map(
              async (index) =>
                (await (await fetch(`${second.url}/v1/status/${index}`)).json()) as {
                  anchored: { record: { status: number }; anchor: { statusRoot: string } };
                },
            ),
          );
          // the views are read concurrently, so one may predate the last anchor: wait until every
          // acknowledged event is active under one root, and that root is the chain's latest
          const chainRoot = (await registry.latestBatch()).statusRoot;
          if (views.every((v) => v.anchored.record.status === Status.Active && v.anchored.anchor.statusRoot === chainRoot)) break;
          if (attempt > 300) {
            const roots = new Set(views.map((v) => v.anchored.anchor.statusRoot));
            throw new Error(
              `acknowledged submissions were not all anchored under the chain's root ${chainRoot} (service roots: ${[...roots].join(", ")})`,
            );
          }
          await new Promise((r) => setTimeout(r, 100));
        }
        expect(new Set(acknowledged).size).to.equal(acknowledged.length);
        const replay = await expectChainReplays(provider, domain.verifyingContract);
        for (const index of acknowledged) expect(replay.state.record(index)?.status, `index ${index}`).to.equal(Status.Active);
        await second.stop();
        // a graceful stop leaves the anchored tree on disk; the next start restores it and agrees with the chain
        expect(existsSync(`${env.DATA_DIR}/tree.snapshot`), "tree snapshot written at SIGTERM").to.equal(true);
        if (crashAt === "under load") {
          const third = await startServiceProcess(env);
          children.push(third.child);
          const view = (await (await fetch(`${third.url}/v1/status/${acknowledged[0]}`)).json()) as {
            anchored: { anchor: { statusRoot: string } };
          };
          expect(view.anchored.anchor.statusRoot).to.equal((await registry.latestBatch()).statusRoot);
          await third.stop();
        }
        await temp.remove();
      });
    }
  });
}
