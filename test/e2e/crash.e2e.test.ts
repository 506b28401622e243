import { expect } from "chai";
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { JsonRpcProvider, id } from "ethers";
import { StatusRegistry__factory } from "../../typechain-types";
import { blankEvent, Channel, EventKind, Status, type Hex, type Submission } from "../../registry-service/src/core";
import { postSubmission, signEvents } from "../../registry-service/src/client/submissionClient";
import { devAccount, startEmbeddedChain, type ChainKind, type EmbeddedChain } from "../../scripts/embedded-chain";
import { startServiceProcess } from "../../scripts/service-process";
import { devDeployment } from "../support/devDeployment";
import { freshDatabase } from "../support/postgres";
import { expectChainReplays } from "../support/replay";

const h = (label: string) => id(label) as Hex;

/** The service's first JSON log line with message `msg` (undefined: none). */
function logged(output: string, msg: string): Record<string, unknown> | undefined {
  return output
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .find((line) => line.msg === msg);
}

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
        const signed: Submission[] = [];
        let counter = 0;
        const issuance = (k: number) => ({
          ...blankEvent(EventKind.Issue),
          credentialCommitment: h(`c ${k}`),
          deviceKeyHash: h(`d ${k}`),
          channel: Channel.ChipCard,
        });
        const submit = async (url: string) => {
          const k = counter++;
          signed[k] = await signEvents(devAccount(2), domain, [issuance(k)], { nonce: h(`nonce ${k}`) });
          const answer = await postSubmission(url, domain, signed[k]);
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
        expect(logged(second.output(), "intake state rebuilt by a scan of the journal"), "a crash leaves no state checkpoint").to.include({
          refused: "ABSENT",
        });
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
        // what the service answers before a graceful stop: statuses, a resend, a refusal on a bound device
        const taken = await signEvents(devAccount(2), domain, [issuance(0)], { nonce: h("a device already bound") });
        const answers = async (url: string) => ({
          statuses: await Promise.all([...acknowledged, 1_000_000].map(async (index) => (await fetch(`${url}/v1/status/${index}`)).json())),
          resend: await postSubmission(url, domain, signed[0]),
          taken: await postSubmission(url, domain, taken),
        });
        const before = crashAt === "under load" ? await answers(second.url) : undefined;
        await second.stop();
        // a graceful stop leaves the anchored tree on disk; the next start restores it and agrees with the chain
        expect(existsSync(`${env.DATA_DIR}/tree.snapshot`), "tree snapshot written at SIGTERM").to.equal(true);
        if (before) {
          // and intake's state: the next start restores it instead of scanning the journal, and answers exactly as before
          expect(existsSync(`${env.DATA_DIR}/state.checkpoint`), "state checkpoint written at SIGTERM").to.equal(true);
          const third = await startServiceProcess(env);
          children.push(third.child);
          const scanned = logged(second.output(), "intake state rebuilt by a scan of the journal")!.entries as number;
          expect(logged(third.output(), "intake state restored from the state checkpoint")).to.include({ entries: scanned + 1 });
          expect(existsSync(`${env.DATA_DIR}/state.checkpoint`), "deleted once read, before any write").to.equal(false);
          const after = await answers(third.url);
          expect(after).to.deep.equal(before);
          expect([before.resend.status, before.taken.status]).to.deep.equal([200, 409]);
          const view = after.statuses[0] as { anchored: { anchor: { statusRoot: string } } };
          expect(view.anchored.anchor.statusRoot).to.equal((await registry.latestBatch()).statusRoot);
          await third.stop();
        }
        await temp.remove();
      });
    }
  });
}
