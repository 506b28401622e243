import { expect } from "chai";
import { readFileSync } from "node:fs";
import { JsonRpcProvider, id } from "ethers";
import { Status, type Hex } from "../../registry-service/src/core";
import { postSubmission, signEvents, submissionStatus } from "../../registry-service/src/client/submissionClient";
import { runAudit } from "../../registry-service/src/audit/audit";
import { devAccount, startEmbeddedChain, type EmbeddedChain } from "../../scripts/embedded-chain";
import { startServiceProcess, type ServiceProcess } from "../../scripts/service-process";
import { devDeployment } from "../support/devDeployment";
import { freshDatabase } from "../support/postgres";
import { expectChainReplays } from "../support/replay";
import { ev } from "../support/scriptedPublisher";

const h = (label: string) => id(label) as Hex;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` every 50 ms until it holds, or fails naming `what` after `limitMs` (a bound, not a measurement). */
async function until(what: string, probe: () => boolean | Promise<boolean>, limitMs = 30_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${limitMs} ms`);
    await sleep(50);
  }
}

const LEASE_MS = 1500;

/** Two (or more) service processes on one PostgreSQL journal and one chain; what was acknowledged, by index and commitment. */
async function cluster(chain: EmbeddedChain) {
  const { temp, deployment, env, domain } = devDeployment(chain.rpcUrl, 20, {
    BATCH_INTERVAL_MS: "200",
    JOURNAL_URL: await freshDatabase(),
    LEASE_MS: String(LEASE_MS),
  });
  const instances: ServiceProcess[] = [];
  let started = 0;
  const start = async (extra: Record<string, string> = {}, standby = false) => {
    const instance = await startServiceProcess({ ...env, ...extra, DATA_DIR: `${temp.dir}/instance-${started++}` }, { standby });
    instances.push(instance);
    return instance;
  };
  const acknowledged = new Map<number, Hex>();
  let counter = 0;
  let leader: ServiceProcess | undefined; // the instance that acknowledged last: asked first
  /**
   * One signed issuance sent to each live instance in turn until one acknowledges it, as a client
   * behind a load balancer would: a standby answers 503 NOT_LEADER, a dead or paused one nothing. The
   * same signed bytes each time: a resend of what a killed leader had committed is answered 200 with its first result.
   */
  const submit = async () => {
    const k = counter++;
    const event = ev.issue(`holder ${k}`, `device ${k}`);
    const signed = await signEvents(devAccount(2), domain, [event], { nonce: h(`n ${k}`) });
    const deadline = Date.now() + 60_000; // a bound, not a measurement: a take-over takes seconds
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      const live = instances.filter((one) => one.child.exitCode === null && one.child.signalCode === null);
      const target = attempt === 0 && leader && live.includes(leader) ? leader : live[attempt % Math.max(1, live.length)];
      const timeout = sleep(3000).then(() => undefined);
      const answer = target && (await Promise.race([postSubmission(target.url, domain, signed).catch(() => undefined), timeout]));
      if (answer?.status === 202 || answer?.status === 200) {
        leader = target;
        return void acknowledged.set(answer.body.applied![0].record.index, event.credentialCommitment);
      }
      if (answer && answer.status !== 503) throw new Error(`HTTP ${answer.status}: ${JSON.stringify(answer.body)}`);
      await sleep(50);
    }
    const states = instances.map((one) => `${one.url}: ${one.child.exitCode ?? one.child.signalCode ?? processState(one.child.pid!)}`);
    throw new Error(`issuance ${k} found no leader within 60 s (${states.join(", ")})`);
  };
  /** Every acknowledged issuance anchored once, with its own commitment at its index, and the audit clean. */
  const expectAllAnchored = async (provider: JsonRpcProvider) => {
    expect(acknowledged.size).to.be.greaterThan(0);
    await until(
      "every acknowledged issuance anchored",
      async () => {
        const replay = await expectChainReplays(provider, deployment.address);
        return [...acknowledged.keys()].every((index) => replay.state.record(index)?.status === Status.Active);
      },
      60_000,
    );
    const replay = await expectChainReplays(provider, deployment.address);
    for (const [index, commitment] of acknowledged)
      expect(replay.state.record(index)?.credentialCommitment, `index ${index}`).to.equal(commitment);
    const report = await runAudit(provider, deployment.address);
    expect(report.ok, JSON.stringify(report.findings)).to.equal(true);
  };
  /** The standby serves reads: the status and proof of `index`, anchored, from its own replay of the chain. */
  const expectReadable = (standby: ServiceProcess, index: number) =>
    until(`the standby serves index ${index} anchored`, async () => {
      const response = await fetch(`${standby.url}/v1/status/${index}`);
      const view = (await response.json()) as { anchored?: { record: { status: number; credentialCommitment: string } } };
      return response.status === 200 && view.anchored?.record.credentialCommitment === acknowledged.get(index);
    });
  const stopAll = async () => {
    for (const instance of instances) instance.child.kill("SIGKILL");
    await Promise.all(instances.map((instance) => instance.exited));
    temp.remove();
  };
  return { start, submit, acknowledged, expectAllAnchored, expectReadable, stopAll, instances, domain };
}

/** The state letter of process `pid` (Linux /proc: "T" once it is stopped by SIGSTOP). */
const processState = (pid: number) => readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1][0];

/** `promise`, or a failure naming `what` after `limitMs` (a bound, not a measurement). */
const within = <T>(limitMs: number, what: string, promise: Promise<T>) =>
  Promise.race([promise, sleep(limitMs).then(() => Promise.reject(new Error(`${what}: not within ${limitMs} ms`)))]);

/** Resolves when `instance` logs that it leads (its "registry-service ready" line), with the time it was seen. */
function leads(instance: ServiceProcess): Promise<number> {
  return new Promise((resolve) => {
    const look = () => (instance.output().includes('"registry-service ready"') ? resolve(Date.now()) : undefined);
    instance.child.stdout!.on("data", look);
    look();
  });
}

describe("fail-over: two service processes on one PostgreSQL journal, one leading, the other standing by", function () {
  this.timeout(240_000);
  let chain: EmbeddedChain;
  let provider: JsonRpcProvider;
  before(async () => {
    chain = await startEmbeddedChain(0, 60_000, "anvil");
    provider = new JsonRpcProvider(chain.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
  });
  after(async () => {
    provider.destroy();
    await chain.stop();
  });

  it("the leader SIGKILLed under load three times: a standby takes over each time, every acknowledged issuance is anchored once, the audit passes", async () => {
    const registry = await cluster(chain);
    try {
      let leader = await registry.start();
      let standby = await registry.start({}, true);
      const standbyAnswer = await fetch(`${standby.url}/v1/submissions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      const refusal = (await standbyAnswer.json()) as { code: string; message: string };
      expect([standbyAnswer.status, refusal.code]).to.deep.equal([503, "NOT_LEADER"]);
      expect(refusal.message).to.include(`the leader is at ${leader.url}`);
      expect(standbyAnswer.headers.get("retry-after")).to.equal("2");
      let loading = true;
      const load = Promise.all(
        Array.from({ length: 3 }, async () => {
          while (loading) await registry.submit();
        }),
      );
      const takeovers: number[] = [];
      for (let round = 0; round < 3; round++) {
        const before = registry.acknowledged.size;
        await until(
          "some issuances acknowledged by this leader",
          () => registry.acknowledged.size >= before + 5 + Math.floor(Math.random() * 30),
        );
        if (round === 0) await registry.expectReadable(standby, [...registry.acknowledged.keys()][0]);
        const taken = leads(standby);
        const killedAt = Date.now();
        leader.child.kill("SIGKILL");
        takeovers.push((await within(30_000, "the standby took over", taken)) - killedAt);
        [leader, standby] = [standby, await registry.start({}, true)];
      }
      loading = false;
      await load;
      console.log(
        `      take-over after SIGKILL (lease ${LEASE_MS} ms): ${takeovers.join(", ")} ms; ${registry.acknowledged.size} issuances acknowledged`,
      );
      for (const ms of takeovers) expect(ms, "take-over time").to.be.lessThan(10_000);
      await registry.expectAllAnchored(provider);
    } finally {
      await registry.stopAll();
    }
  });

  it("a leader paused (SIGSTOP) just before sending an anchor loses the lease; woken (SIGCONT) it neither writes nor anchors, and stops", async () => {
    const registry = await cluster(chain);
    try {
      const paused = await registry.start({ REGISTRY_PAUSE_AT: "before-anchor" });
      const standby = await registry.start({}, true);
      const taken = leads(standby);
      for (let i = 0; i < 5; i++) await registry.submit(); // the first batch: the leader records it, then stops itself before sending it
      await until("the leader stopped itself", () => processState(paused.child.pid!) === "T");
      await within(30_000, "the standby took over", taken);
      for (let i = 0; i < 5; i++) await registry.submit(); // to the new leader, which anchored the recorded batch first
      const late = await signEvents(devAccount(2), registry.domain, [ev.issue("late holder", "late device")], { nonce: h("late") });
      paused.child.kill("SIGCONT");
      const woken = await within(
        30_000,
        "the woken leader answered",
        postSubmission(paused.url, registry.domain, late).catch(() => undefined),
      );
      // it answers NOT_LEADER (its journal write fenced), or CHAIN_UNAVAILABLE (its roles went stale while it slept), or it is gone
      if (woken) expect(`${woken.status} ${woken.body.code}`).to.be.oneOf(["503 NOT_LEADER", "503 CHAIN_UNAVAILABLE"]);
      expect(await within(30_000, "the woken leader stopped", paused.exited), "it stops once it finds the lease gone").to.equal(1);
      expect(paused.output()).to.include("LEADERSHIP LOST");
      expect(paused.output(), "the former leader anchored nothing").to.not.include('"batch anchored"');
      expect(
        await submissionStatus(standby.url, devAccount(2).address as Hex, h("late")),
        "nothing it was sent after waking is journalled",
      ).to.equal(undefined);
      await registry.expectAllAnchored(provider).catch((error: unknown) => {
        throw new Error(`${(error as Error).message}\n${standby.output().slice(-6000)}`);
      });
    } finally {
      await registry.stopAll();
    }
  });
});
