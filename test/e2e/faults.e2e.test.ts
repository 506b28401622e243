import { expect } from "chai";
import { withGrants } from "../support/devices";
import { id, JsonRpcProvider, type HDNodeWallet } from "ethers";
import { StatusRegistry__factory } from "../../typechain-types";
import {
  blankEvent,
  deadlineIn,
  EventKind,
  Reason,
  signSubmission,
  Status,
  type Hex,
  type StatusEvent,
  type StatusRecord,
} from "../../registry-service/src/core";
import { loadConfig } from "../../registry-service/src/service/config";
import { startService } from "../../registry-service/src/service/server";
import { runAudit } from "../../registry-service/src/audit/audit";
import { devAccount, startEmbeddedChain, type EmbeddedChain } from "../../scripts/embedded-chain";
import { devDeployment } from "../support/devDeployment";
import { silentLog } from "../support/logs";
import { ev } from "../support/scriptedPublisher";
import { freshDatabase } from "../support/postgres";

const h = (label: string) => id(label) as Hex;
const [ADMIN, ISSUER, OPERATOR] = [devAccount(0), devAccount(2), devAccount(3)];
const issue = (n: string) => ev.issue(`holder ${n}`, `device ${n}`);
const lock = (n: string) => ev.lock(`device ${n}`);
const change = (kind: EventKind, index: number, reason: Reason): StatusEvent => ({ ...blankEvent(kind), index, reason });

interface Answer {
  status: number;
  body: { code?: string; batch?: number; applied?: { record: StatusRecord }[] };
}
interface StatusView {
  anchored: { record: StatusRecord };
  pending: StatusRecord | null;
}

/** Polls `probe` every 100 ms until it returns a value, or fails naming `what` after `limitMs` (a bound, not a measurement). */
async function until<T>(what: string, probe: () => Promise<T | undefined>, limitMs = 20_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A chain node, a registry on it and the service over real HTTP (its journal in LevelDB, or in PostgreSQL), with what the faults below need. */
async function stack(chain: EmbeddedChain, depth: number, cleanup: (() => Promise<unknown>)[], journal: string) {
  const { temp, deployment, env, domain } = devDeployment(chain.rpcUrl, depth, {
    BATCH_INTERVAL_MS: "300",
    BATCH_MAX_EVENTS: "200",
    ROLES_MAX_AGE_SECONDS: "3",
    ...(journal === "PostgreSQL" ? { JOURNAL_URL: await freshDatabase() } : {}),
  });
  cleanup.push(async () => temp.remove());
  const service = await startService(loadConfig(env), silentLog());
  cleanup.push(() => service.close());
  const provider = new JsonRpcProvider(chain.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
  cleanup.push(async () => provider.destroy());
  const admin = StatusRegistry__factory.connect(deployment.address, ADMIN.connect(provider));
  let nonce = 0;
  /** Every index the service acknowledged as issued: none may be missing from the chain's state at the end. */
  const acknowledged: number[] = [];
  const post = async (wallet: HDNodeWallet, events: StatusEvent[], options: { nonce?: Hex; deadline?: number } = {}): Promise<Answer> => {
    const granted = withGrants(events, domain, wallet.address);
    const request = { nonce: options.nonce ?? h(`fault ${nonce++}`), deadline: options.deadline ?? deadlineIn(3600), events: granted };
    const signed = await signSubmission(wallet, domain, request);
    const response = await fetch(`${service.url}/v1/submissions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(signed),
    });
    const answer = { status: response.status, body: (await response.json()) as Answer["body"] };
    if (answer.status === 202 && events[0].kind === EventKind.Issue)
      for (const { record } of answer.body.applied!) if (record.status === Status.Active) acknowledged.push(record.index);
    return answer;
  };
  const status = async (index: number) => (await (await fetch(`${service.url}/v1/status/${index}`)).json()) as StatusView;
  const anchored = (index: number, predicate: (record: StatusRecord) => boolean) =>
    until(`index ${index} anchored as expected`, async () => {
      const view = await status(index);
      return view.anchored && predicate(view.anchored.record) ? view.anchored.record : undefined;
    });
  const ready = async () => (await fetch(`${service.url}/ready`)).status;
  const audit = () => runAudit(provider, deployment.address);
  return { service, admin, post, status, anchored, ready, audit, acknowledged };
}

for (const journal of ["LevelDB", "PostgreSQL"])
  describe(`fault suite, ${journal} journal: the service under a frozen chain, a pause, revocations, races, replays, bulk load and a full registry`, function () {
    this.timeout(180_000);
    const cleanup: (() => Promise<unknown>)[] = [];
    let chain: EmbeddedChain;
    let registry: Awaited<ReturnType<typeof stack>>;
    before(async () => {
      chain = await startEmbeddedChain(0, 60_000, "anvil");
      cleanup.push(() => chain.stop());
      registry = await stack(chain, 20, cleanup, journal);
    });
    after(async () => {
      for (const step of cleanup.reverse()) await step().catch(() => undefined);
    });

    it("chain frozen and resumed: intake goes on for a bounded time, then CHAIN_UNAVAILABLE but for locks; anchoring resumes; nothing lost", async () => {
      const { post, anchored, ready } = registry;
      const alice = await post(ISSUER, [issue("alice")]);
      expect(alice.status).to.equal(202);
      await anchored(0, (record) => record.status === Status.Active);

      chain.process.kill("SIGSTOP");
      try {
        const locked = await post(OPERATOR, [lock("alice")]);
        expect(locked.status, "accepted against the roles read last").to.equal(202);
        await until("/ready says no", async () => ((await ready()) === 503 ? true : undefined));
        const refused = await until("an issuance refused once the roles are too old", async () => {
          const answer = await post(ISSUER, [issue("while frozen")]);
          return answer.status === 503 ? answer : undefined;
        });
        expect(refused.body.code).to.equal("CHAIN_UNAVAILABLE");
        expect((await post(OPERATOR, [lock("alice")])).status, "a lock still goes on, on the roles read last").to.equal(202);
      } finally {
        chain.process.kill("SIGCONT");
      }
      await anchored(0, (record) => record.status === Status.Suspended && record.reason === Reason.LostDevice);
      await until("/ready again", async () => ((await ready()) === 200 ? true : undefined));
    });

    it("contract paused and unpaused: intake goes on, anchoring waits, then resumes", async () => {
      const { post, anchored, status, admin } = registry;
      await (await admin.pause()).wait();
      const bob = await post(ISSUER, [issue("bob")]);
      expect(bob.status).to.equal(202);
      const index = bob.body.applied![0].record.index;
      expect((await status(index)).pending).to.include({ status: Status.Active });
      await (await admin.unpause()).wait();
      await anchored(index, (record) => record.status === Status.Active);
    });

    it("a role revoked while submissions are in flight: what was accepted before is anchored and passes the audit; after, 403", async () => {
      const { post, anchored, admin, audit } = registry;
      await (await admin.pause()).wait(); // holds the accepted submission unanchored across the revocation
      const before = await post(ISSUER, [issue("carol")]);
      expect(before.status).to.equal(202);
      const issuerRole = await admin.ISSUER_ROLE();
      await (await admin.revokeRole(issuerRole, ISSUER.address)).wait();
      let attempt = 0; // a fresh phone each time: an attempt accepted before the revocation was read keeps its own
      const after = await until("the revocation read by the service", async () => {
        const answer = await post(ISSUER, [issue(`dave ${attempt++}`)]);
        return answer.status === 403 ? answer : undefined;
      });
      expect(after.body.code).to.equal("ROLE_REQUIRED");
      await (await admin.unpause()).wait();
      await anchored(before.body.applied![0].record.index, (record) => record.status === Status.Active);
      await (await admin.grantRole(issuerRole, ISSUER.address)).wait();
      await until("the grant read by the service", async () =>
        (await post(ISSUER, [issue(`dave ${attempt++}`)])).status === 202 ? true : undefined,
      );
      const report = await audit();
      expect(report.findings).to.deep.equal([]);
    });

    it("a lock racing a reinstate: the ID ends suspended for the lost device, whichever comes first", async () => {
      const { post, anchored } = registry;
      const erin = await post(ISSUER, [issue("erin")]);
      const index = erin.body.applied![0].record.index;
      expect((await post(ISSUER, [change(EventKind.Suspend, index, Reason.HolderRequest)])).status).to.equal(202);
      const [reinstate, locked] = await Promise.all([
        post(ISSUER, [change(EventKind.Reinstate, index, Reason.HolderRequest)]),
        post(OPERATOR, [lock("erin")]),
      ]);
      expect(locked.status).to.equal(202);
      expect([202, 409]).to.include(reinstate.status);
      if (reinstate.status === 409) expect(reinstate.body.code).to.equal("SUSPENSION_CHANGED");
      await anchored(index, (record) => record.status === Status.Suspended && record.reason === Reason.LostDevice);
    });

    it("nonce reuse and a replayed request past its deadline are refused with their codes", async () => {
      const { post } = registry;
      const first = await post(ISSUER, [issue("frank")], { nonce: h("reused") });
      expect(first.status).to.equal(202);
      const index = first.body.applied![0].record.index;
      const reused = await post(ISSUER, [change(EventKind.Suspend, index, Reason.HolderRequest)], { nonce: h("reused") });
      expect([reused.status, reused.body.code]).to.deep.equal([409, "DUPLICATE_NONCE"]);
      const expired = await post(ISSUER, [change(EventKind.Suspend, index, Reason.HolderRequest)], { deadline: deadlineIn(-60) });
      expect([expired.status, expired.body.code]).to.deep.equal([400, "DEADLINE_TOO_SOON"]);
    });

    it("a lock during a bulk load joins the next batch to anchor, not the end of the queue", async () => {
      const { post, anchored } = registry;
      const gina = await post(ISSUER, [issue("gina")]);
      const index = gina.body.applied![0].record.index;
      await anchored(index, (record) => record.status === Status.Active);
      // ten submissions of 150 issuances: ten batches of 180 events at most each (a tenth kept for the priority lane)
      const bulk = await Promise.all(
        Array.from({ length: 10 }, (_, s) =>
          post(
            ISSUER,
            Array.from({ length: 150 }, (_, i) => issue(`bulk ${s}.${i}`)),
          ),
        ),
      );
      expect(bulk.every((answer) => answer.status === 202)).to.equal(true);
      const lastBulkBatch = Math.max(...bulk.map((answer) => answer.body.batch!));
      const locked = await post(OPERATOR, [lock("gina")]);
      expect(locked.status).to.equal(202);
      expect(locked.body.batch, `ahead of the queue that ends at batch ${lastBulkBatch}`).to.be.lessThan(lastBulkBatch);
      await anchored(index, (record) => record.status === Status.Suspended);
      const last = bulk.find((answer) => answer.body.batch === lastBulkBatch)!.body.applied!.at(-1)!.record.index;
      await anchored(last, (record) => record.status === Status.Active);
    });

    it("ends with every acknowledged issuance on chain and an audit with no finding", async () => {
      const { acknowledged, status, audit } = registry;
      for (const index of acknowledged) expect((await status(index)).anchored.record.status, `index ${index}`).to.not.equal(Status.None);
      const report = await audit();
      expect(report).to.include({ ok: true });
      expect(report.counts).to.deep.equal({});
    });

    it("a registry of small depth filled up: the next issuance is refused with REGISTRY_FULL, anchoring goes on", async () => {
      // a chain of its own: two services anchoring with the one dev publisher key on one chain would share its nonces
      const own = await startEmbeddedChain(0, 60_000, "anvil");
      cleanup.push(() => own.stop());
      const small = await stack(own, 2, cleanup, journal);
      for (const n of [0, 1, 2, 3]) expect((await small.post(ISSUER, [issue(`small ${n}`)])).status).to.equal(202);
      const full = await small.post(ISSUER, [issue("small 4")]);
      expect([full.status, full.body.code]).to.deep.equal([409, "REGISTRY_FULL"]);
      await small.anchored(3, (record) => record.status === Status.Active);
      expect((await small.post(OPERATOR, [lock("small 3")])).status, "locks still work").to.equal(202);
      await small.anchored(3, (record) => record.status === Status.Suspended);
      expect((await small.audit()).ok).to.equal(true);
    });
  });
