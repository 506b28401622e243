import { expect } from "chai";
import hre from "hardhat";
import { id, type Signer } from "ethers";
import {
  blankEvent,
  Channel,
  domainHash,
  EventKind,
  Reason,
  Status,
  signSubmission,
  SUBMISSION_TYPES,
  typedDataDomain,
  deadlineIn,
  verifyEventReceipt,
  verifyStatusProof,
  type Hex,
  type StatusEvent,
} from "../../registry-service/src/core";
import { AnchorFacts, ChainError, ChainHistory, RoleFollower } from "../../registry-service/src/chain/read";
import type { Services } from "../../registry-service/src/http/services";
import { EthersAnchorChain } from "../../registry-service/src/chain/write";
import type { BatchPolicy } from "../../registry-service/src/intake";
import { buildApp } from "../../registry-service/src/http/app";
import { Metrics } from "../../registry-service/src/http/metrics";
import type { Logger } from "../../registry-service/src/service/logger";
import { testPhone } from "../support/devices";
import { LockRate } from "../../registry-service/src/http/lockRate";
import { deployWithRoles, TEST_DEADLINE } from "../support/fixtures";
import { capturedLog } from "../support/logs";
import { tempRegistry } from "../support/tempRegistry";

const DEPTH = 20;
const h = (label: string) => id(label) as Hex;
const issue = (holder: string, device: string) => ({
  kind: EventKind.Issue,
  credentialCommitment: h(`c ${holder}`),
  deviceKeyHash: testPhone(device).hash,
  channel: Channel.ChipCard,
});

describe("HTTP API (app.inject)", () => {
  let temp: Awaited<ReturnType<typeof tempRegistry>>;
  afterEach(() => temp.remove());

  async function setup(
    limits: Partial<Services["limits"]> = {},
    policy: Partial<BatchPolicy> = {},
    roles?: Services["roles"],
    logger?: Logger,
    lockRate = new LockRate(10_000, () => undefined),
  ) {
    const f = await deployWithRoles(DEPTH);
    temp = await tempRegistry(new EthersAnchorChain(f.registry.connect(f.publisher)), {
      depth: DEPTH,
      policy: { maxBacklog: 1000, ...policy },
    });
    const { hasher } = temp;
    const { intake, view, journal, anchorer } = temp.parts;
    const domain = { chainId: (await hre.ethers.provider.getNetwork()).chainId, verifyingContract: await f.registry.getAddress() };
    const follower = new RoleFollower(new ChainHistory(hre.ethers.provider, domain.verifyingContract), 0);
    await follower.advance();
    const services: Services = {
      intake,
      view,
      journal,
      hasher,
      roles: roles ?? follower,
      domain,
      metrics: new Metrics(),
      lockRate,
      limits: {
        bodyLimitBytes: 1_048_576,
        verifierRequestsPerMinute: 10_000,
        clientSubmissionsPerMinute: 10_000,
        signerSubmissionsPerMinute: 10_000,
        ...limits,
      },
      chain: { rpcUrl: "http://127.0.0.1:8545/", facts: new AnchorFacts(hre.ethers.provider) },
      ready: () => true,
    };
    const app = await buildApp(services, { logger });
    let nonce = 0;
    const post = async (
      signer: Signer,
      events: Partial<StatusEvent>[],
      options: { nonce?: Hex; deadline?: number; body?: object } = {},
    ) => {
      const full = events.map((e) => ({ ...blankEvent(e.kind!), ...e }));
      // signed without the client-side checks, so that the service's own checks are what is tested
      const value = { nonce: options.nonce ?? h(`nonce ${nonce++}`), deadline: options.deadline ?? TEST_DEADLINE, events: full };
      const signature = await signer.signTypedData(typedDataDomain(domain), SUBMISSION_TYPES, value);
      const response = await app.inject({
        method: "POST",
        url: "/v1/submissions",
        payload: options.body ?? { nonce: value.nonce, deadline: value.deadline, events, signature },
      });
      return { status: response.statusCode, body: response.json(), headers: response.headers };
    };
    const status = async (index: number) => (await app.inject({ method: "GET", url: `/v1/status/${index}` })).json();
    /** the LOCK_DEVICE of a test phone, with its grant to `by` (the operator unless said) */
    const lock = (device: string, by: Signer = f.operator) =>
      testPhone(device).lock(domain, (by as unknown as { address: string }).address);
    return { ...f, app, anchorer, hasher, post, status, follower, lock, domain };
  }

  it("journals a signed issuance (202), answers a resend with the original result (200)", async () => {
    const { issuer, post } = await setup();
    const first = await post(issuer, [issue("alice", "phone A")], { nonce: h("n1") });
    expect(first.status).to.equal(202);
    expect(first.body).to.deep.include({ seq: 0, batch: 1, duplicate: false, signer: issuer.address.toLowerCase() });
    expect(first.body.applied[0].record).to.include({ index: 0, status: Status.Active });
    const again = await post(issuer, [issue("alice", "phone A")], { nonce: h("n1") });
    expect(again.status).to.equal(200);
    expect(again.body).to.deep.equal({ ...first.body, duplicate: true });
    const other = await post(issuer, [{ kind: EventKind.Suspend, index: 0, reason: Reason.HolderRequest }], { nonce: h("n1") });
    expect([other.status, other.body.code], "other events under a used nonce are refused, not answered as a duplicate").to.deep.equal([
      409,
      "DUPLICATE_NONCE",
    ]);
  });

  for (const { title, body } of [
    { title: "an unknown field", body: { nonce: h("n"), events: [issue("a", "b")], signature: `0x${"11".repeat(65)}`, extra: 1 } },
    { title: "a short nonce", body: { nonce: "0x1234", events: [issue("a", "b")], signature: `0x${"11".repeat(65)}` } },
    { title: "no events", body: { nonce: h("n"), events: [], signature: `0x${"11".repeat(65)}` } },
    { title: "an unknown event kind", body: { nonce: h("n"), events: [{ kind: 9 }], signature: `0x${"11".repeat(65)}` } },
    { title: "no signature", body: { nonce: h("n"), events: [issue("a", "b")] } },
  ]) {
    it(`refuses a body with ${title}: 400 VALIDATION_FAILED`, async () => {
      const { issuer, post } = await setup();
      const response = await post(issuer, [issue("a", "b")], { body });
      expect(response.status).to.equal(400);
      expect(response.body.code).to.equal("VALIDATION_FAILED");
      expect(response.body.message).to.be.a("string").with.length.greaterThan(10);
    });
  }

  it("logs a 500 at error level with its cause; a refusal (4xx) not as an error; neither body", async () => {
    const log = capturedLog("trace");
    const unreadable = {
      rolesNow(): never {
        throw new Error("role table unreadable");
      },
    };
    const { issuer, post } = await setup({}, {}, unreadable, log.logger);
    const failed = await post(issuer, [issue("alice", "phone A")]);
    expect([failed.status, failed.body]).to.deep.equal([500, { code: "INTERNAL", message: "internal error" }]);
    const refused = await post(issuer, [issue("bob", "phone B")], { body: { nonce: "0x12", events: [issue("bob", "phone B")] } });
    expect(refused.status).to.equal(400);

    const errors = log.lines().filter((line) => line.level >= 50);
    expect(errors, log.text()).to.have.length(1);
    expect(errors[0]).to.include({ msg: "answered 500 INTERNAL", code: "INTERNAL" });
    expect(errors[0].err).to.include({ type: "Error", message: "role table unreadable" });
    expect((errors[0].err as { stack: string }).stack).to.match(/^\s+at /);
    const answers = log.lines().filter((line) => line.msg === "answered");
    expect(answers.map((line) => [line.route, line.statusCode])).to.deep.equal([
      ["/v1/submissions", 500],
      ["/v1/submissions", 400],
    ]);
    for (const part of [h("alice"), testPhone("phone A").hash, h("bob"), testPhone("phone B").hash])
      expect(log.text()).not.to.contain(part.slice(2));
  });

  it("refuses a malformed event with INVALID_EVENT and a key without a role with ROLE_REQUIRED", async () => {
    const { issuer, stranger, operator, post } = await setup();
    expect((await post(issuer, [{ ...issue("a", "b"), channel: 0 }])).body.code).to.equal("INVALID_EVENT");
    const byStranger = await post(stranger, [issue("a", "b")]);
    expect([byStranger.status, byStranger.body.code]).to.deep.equal([403, "ROLE_REQUIRED"]);
    await post(issuer, [issue("alice", "phone A")]);
    const operatorRevokes = await post(operator, [{ kind: EventKind.Revoke, index: 0, reason: Reason.KeyCompromise }]);
    expect([operatorRevokes.status, operatorRevokes.body.code]).to.deep.equal([403, "ROLE_REQUIRED"]);
  });

  it("answers rule violations with 404 and 409 codes, changing nothing", async () => {
    const { issuer, operator, post, status, lock, domain } = await setup();
    await post(issuer, [issue("alice", "phone A")]);
    const cases: [Partial<StatusEvent>, number, string][] = [
      [{ kind: EventKind.Suspend, index: 7, reason: Reason.HolderRequest }, 404, "UNKNOWN_INDEX"],
      [{ kind: EventKind.Reinstate, index: 0, reason: Reason.HolderRequest }, 409, "NOT_SUSPENDED"],
      [lock("no such phone"), 404, "UNKNOWN_DEVICE"],
      [{ ...lock("phone A"), grant: testPhone("phone B").grant(domain, operator.address) }, 403, "LOCK_NOT_GRANTED"],
    ];
    for (const [event, code, name] of cases) {
      const signer = event.kind === EventKind.LockDevice ? operator : issuer;
      const response = await post(signer, [event]);
      expect([response.status, response.body.code], name).to.deep.equal([code, name]);
    }
    await post(issuer, [{ kind: EventKind.Revoke, index: 0, reason: Reason.HolderRequest }]);
    const again = await post(issuer, [{ kind: EventKind.Suspend, index: 0, reason: Reason.HolderRequest }]);
    expect([again.status, again.body.code]).to.deep.equal([409, "CREDENTIAL_REVOKED"]);
    expect((await status(0)).pending.status).to.equal(Status.Revoked);
  });

  it("refuses a submission too large for one anchor with 413 SUBMISSION_TOO_LARGE, saying how to split it", async () => {
    const { issuer, post, status } = await setup(undefined, { maxBytes: 1024, priorityReserve: 0 });
    const events = Array.from({ length: 14 }, (_, i) => issue(`holder ${i}`, `phone ${i}`)); // 117 + 14 x 66 bytes
    const response = await post(issuer, events);
    expect([response.status, response.body.code]).to.deep.equal([413, "SUBMISSION_TOO_LARGE"]);
    // refused before any signature work: the same body with a signature that is no signature gets the same answer
    const unsigned = await post(issuer, events, {
      body: { nonce: h("x"), deadline: deadlineIn(3600), events, signature: `0x${"00".repeat(65)}` },
    });
    expect([unsigned.status, unsigned.body.code]).to.deep.equal([413, "SUBMISSION_TOO_LARGE"]);
    expect(response.body.message).to.match(/at most 10000 events in 1019 bytes .* split it/);
    expect((await status(0)).pending).to.equal(null);
    expect((await post(issuer, events.slice(0, 13))).status).to.equal(202);
  });

  it("names a device by its bytes: a hash in upper case locks the device issued in lower case", async () => {
    const { issuer, operator, post, status, lock } = await setup();
    await post(issuer, [issue("alice", "phone A")]);
    const upper = `0x${testPhone("phone A").hash.slice(2).toUpperCase()}` as Hex;
    const locked = await post(operator, [{ ...lock("phone A"), deviceKeyHash: upper }]);
    expect(locked.status).to.equal(202);
    expect(locked.body.applied[0].record).to.include({ index: 0, status: Status.Suspended, deviceKeyHash: testPhone("phone A").hash });
    expect((await status(0)).pending.status).to.equal(Status.Suspended);
  });

  it("serves the anchored status with a proof, and a pending lock before it is anchored", async () => {
    const { issuer, operator, post, status, anchorer, hasher, registry, lock } = await setup();
    await post(issuer, [issue("alice", "phone A")]);
    let view = await status(0);
    expect(view.anchored.record.status).to.equal(Status.None);
    expect(view.pending.status).to.equal(Status.Active);
    expect(verifyStatusProof(hasher, view.anchored.anchor.statusRoot, view.anchored.record, view.anchored.proof, DEPTH)).to.equal(true);

    await anchorer.step();
    view = await status(0);
    expect(view.anchored.record.status).to.equal(Status.Active);
    expect(view.pending).to.equal(null);
    expect(view.anchored.anchor.batch).to.equal(1);
    expect(view.anchored.anchor.statusRoot).to.equal((await registry.latestBatch()).statusRoot);
    expect(await registry.verifyStatus(view.anchored.anchor.statusRoot, view.anchored.record, view.anchored.proof)).to.equal(Status.Active);

    await post(operator, [lock("phone A")]);
    view = await status(0);
    expect([view.anchored.record.status, view.pending.status, view.pending.reason]).to.deep.equal([
      Status.Active,
      Status.Suspended,
      Reason.LostDevice,
    ]);
  });

  it("tells the console where it runs and gives an overview: the latest anchor with the chain's gas and time, the backlog, the lag", async () => {
    const { issuer, post, app, anchorer, registry } = await setup();
    const get = async (url: string) => (await app.inject({ method: "GET", url })).json();
    const config = await get("/v1/console/config");
    expect(config).to.deep.equal({
      server: "service",
      chainId: Number((await hre.ethers.provider.getNetwork()).chainId),
      registry: await registry.getAddress(),
      depth: DEPTH,
      rpcUrl: "http://127.0.0.1:8545/",
    });
    expect(await get("/v1/overview")).to.include({ server: "service", latest: null, waiting: 0, anchoringLagSeconds: 0 });

    await post(issuer, [issue("alice", "phone A"), issue("bob", "phone B")]);
    expect((await get("/v1/overview")).waiting).to.equal(1);
    await anchorer.step();
    const overview = await get("/v1/overview");
    const receipt = await hre.ethers.provider.getTransactionReceipt(overview.latest.transactionHash);
    const block = await hre.ethers.provider.getBlock(receipt!.blockNumber);
    expect(overview.latest).to.deep.equal({
      batch: 1,
      state: "anchored",
      eventCount: 2,
      statusRoot: (await registry.latestBatch()).statusRoot,
      transactionHash: receipt!.hash,
      blockNumber: receipt!.blockNumber,
      gasUsed: receipt!.gasUsed.toString(),
      anchoredAt: block!.timestamp,
    });
    expect(overview.recent).to.deep.equal([overview.latest]);
    expect([overview.waiting, overview.anchoringLagSeconds]).to.deep.equal([0, 0]);

    const root = await app.inject({ method: "GET", url: "/" });
    expect([root.statusCode, root.headers.location]).to.deep.equal([302, "/console/"]);
    const paths = Object.keys((await get("/docs/json")).paths);
    expect(paths).to.include.members(["/v1/console/config", "/v1/overview"]);
  });

  it("answers many indexes at once, and refuses indexes outside the tree", async () => {
    const { issuer, post, app } = await setup();
    await post(issuer, [issue("alice", "phone A"), issue("bob", "phone B")]);
    const many = await app.inject({ method: "POST", url: "/v1/status/query", payload: { indexes: [0, 1, 5] } });
    expect(many.json().results.map((r: { pending: { status: number } | null }) => r.pending?.status ?? null)).to.deep.equal([
      Status.Active,
      Status.Active,
      null,
    ]);
    const outside = await app.inject({ method: "GET", url: `/v1/status/${2 ** DEPTH}` });
    expect([outside.statusCode, outside.json().code]).to.deep.equal([404, "NOT_FOUND"]);
    expect((await app.inject({ method: "GET", url: "/v1/status/abc" })).json().code).to.equal("VALIDATION_FAILED");
  });

  it("pushes back with 503 QUEUE_FULL and Retry-After once the backlog bound is reached, logged as a warning, not an error", async () => {
    const log = capturedLog("info");
    const { issuer, post, status } = await setup({ verifierRequestsPerMinute: 100 }, { maxBacklog: 2 }, undefined, log.logger);
    await post(issuer, [issue("a", "1")]);
    await post(issuer, [issue("b", "2")]);
    const refused = await post(issuer, [issue("c", "3")]);
    expect([refused.status, refused.body.code, refused.headers["retry-after"]]).to.deep.equal([503, "QUEUE_FULL", "5"]);
    expect((await status(2)).pending).to.equal(null);
    // a pushback is expected under load: one warning with its reason, no stack, nothing at error level
    const pushback = log.lines().filter((line) => line.msg === "answered 503 QUEUE_FULL");
    expect(pushback.map((line) => [line.level, line.err])).to.deep.equal([[40, undefined]]);
    expect(pushback[0].cause).to.match(/wait for anchoring/);
    expect(log.lines().filter((line) => line.level >= 50)).to.deep.equal([]);
  });

  it("shows auditors each batch with its signed submissions, and receipts that verify against the anchored event root", async () => {
    const { issuer, operator, post, app, anchorer, hasher, registry, lock } = await setup();
    await post(issuer, [issue("alice", "phone A"), issue("bob", "phone B")]);
    await anchorer.step();
    await post(operator, [lock("phone B")]);
    await anchorer.step();
    const list = (await app.inject("/v1/batches?limit=10")).json();
    expect(list.batches.map((b: { batch: number; state: string }) => [b.batch, b.state])).to.deep.equal([
      [2, "anchored"],
      [1, "anchored"],
    ]);
    const one = (await app.inject("/v1/batches/2")).json();
    expect(one.submissions[0]).to.include({ signer: operator.address.toLowerCase() });
    expect(one.applied[0].record).to.include({ index: 1, status: Status.Suspended, reason: Reason.LostDevice });
    const receipt = (await app.inject("/v1/batches/2/receipts/0")).json();
    expect(verifyEventReceipt(hasher, receipt.event, { leaf: receipt.leaf, proof: receipt.proof, root: receipt.eventRoot })).to.equal(true);
    const anchored = await registry.queryFilter(registry.filters.BatchAnchored(2));
    expect(anchored[0].args.eventRoot).to.equal(receipt.eventRoot);
    expect((await app.inject("/v1/batches/9")).json().code).to.equal("NOT_FOUND");
    expect((await app.inject("/v1/batches/2/receipts/5")).json().code).to.equal("NOT_FOUND");
  });

  it("tells a client what it signs for: GET /v1/domain; a signature for another domain is 400 DOMAIN_MISMATCH naming this one", async () => {
    const { issuer, app, status } = await setup();
    const answer = (await app.inject("/v1/domain")).json();
    const domain = { chainId: BigInt(answer.chainId), verifyingContract: answer.registry };
    expect(answer.domainHash).to.equal(domainHash(domain));
    expect(answer).to.deep.include({ depth: DEPTH, primaryType: "Submission", types: SUBMISSION_TYPES });
    expect(answer.roles.ISSUER_ROLE).to.equal(id("ISSUER_ROLE"));
    expect(answer.submissionLimits.priority.bytes).to.be.greaterThan(answer.submissionLimits.regular.bytes);
    // the issuer signs for a registry at another address and says so: told at once, nothing accepted
    const elsewhere = { ...domain, verifyingContract: `0x${"22".repeat(20)}` };
    const request = {
      nonce: h("elsewhere"),
      deadline: TEST_DEADLINE,
      events: [{ ...blankEvent(EventKind.Issue), ...issue("alice", "phone A") }],
    };
    const signed = await signSubmission(issuer, elsewhere, request);
    const mismatch = await app.inject({
      method: "POST",
      url: "/v1/submissions",
      payload: { ...signed, domainHash: domainHash(elsewhere) },
    });
    expect([mismatch.statusCode, mismatch.json().code]).to.deep.equal([400, "DOMAIN_MISMATCH"]);
    expect(mismatch.json().message).to.include(answer.domainHash).and.include(answer.registry);
    // without the hash the signature recovers to a stranger: a role error that says where to look
    const stranger = await app.inject({ method: "POST", url: "/v1/submissions", payload: signed });
    expect([stranger.statusCode, stranger.json().code]).to.deep.equal([403, "ROLE_REQUIRED"]);
    expect(stranger.json().message).to.include("GET /v1/domain");
    expect((await status(0)).pending).to.equal(null);
    // the right hash goes through
    const right = await signSubmission(issuer, domain, request);
    const accepted = await app.inject({ method: "POST", url: "/v1/submissions", payload: { ...right, domainHash: answer.domainHash } });
    expect(accepted.statusCode).to.equal(202);
  });

  it("follows a submission to its anchor: accepted in a batch, cut at positions with receipts, anchored in a transaction", async () => {
    const { issuer, operator, post, app, anchorer, hasher, lock } = await setup();
    await post(issuer, [issue("alice", "phone A"), issue("bob", "phone B")]);
    const locked = await post(operator, [lock("phone B")], { nonce: h("the lock") });
    const path = `/v1/submissions/${operator.address}/${h("the lock")}`;
    const accepted = (await app.inject(path)).json();
    expect(accepted).to.deep.include({ state: "accepted", batch: locked.body.batch, positions: null, receipts: [], transactionHash: null });
    await anchorer.step();
    const anchored = (await app.inject(path)).json(); // the signer in its checksummed (mixed-case) form
    expect(anchored).to.deep.include({ state: "anchored", batch: 1, positions: [2], receipts: ["/v1/batches/1/receipts/2"] });
    expect(anchored.applied[0].record).to.include({ index: 1, status: Status.Suspended, reason: Reason.LostDevice });
    const receipt = (await app.inject(anchored.receipts[0])).json();
    expect(receipt.event).to.deep.include({ signer: operator.address.toLowerCase(), nonce: h("the lock") });
    expect(verifyEventReceipt(hasher, receipt.event, { leaf: receipt.leaf, proof: receipt.proof, root: receipt.eventRoot })).to.equal(true);
    expect(receipt.batch.transactionHash)
      .to.equal(anchored.transactionHash)
      .and.to.match(/^0x[0-9a-f]{64}$/);
    const unknown = await app.inject(`/v1/submissions/${operator.address}/${h("never sent")}`);
    expect([unknown.statusCode, unknown.json().code]).to.deep.equal([404, "NOT_FOUND"]);
  });

  it("answers with the intake block the signer's role was read at, and refuses a deadline out of its window with a 400 naming it", async () => {
    const { issuer, post, follower, status } = await setup();
    const accepted = await post(issuer, [issue("alice", "phone A")]);
    expect(accepted.status).to.equal(202);
    expect(accepted.body.intakeBlock).to.equal(follower.followedBlock);
    const soon = await post(issuer, [issue("bob", "phone B")], { deadline: deadlineIn(5) });
    expect([soon.status, soon.body.code]).to.deep.equal([400, "DEADLINE_TOO_SOON"]);
    const far = await post(issuer, [issue("bob", "phone B")], { deadline: deadlineIn(30 * 86_400) });
    expect([far.status, far.body.code]).to.deep.equal([400, "DEADLINE_TOO_FAR"]);
    expect((await status(1)).pending).to.equal(null);
  });

  it("answers 503 CHAIN_UNAVAILABLE with Retry-After when the roles cannot be read from the chain, accepting nothing", async () => {
    const chainDown = {
      rolesNow: () => {
        throw new ChainError("CHAIN_UNREACHABLE", "node down");
      },
    };
    const { issuer, post, status } = await setup(undefined, {}, chainDown);
    const refused = await post(issuer, [issue("alice", "phone A")]);
    expect([refused.status, refused.body.code, refused.headers["retry-after"]]).to.deep.equal([503, "CHAIN_UNAVAILABLE", "5"]);
    expect((await status(0)).pending).to.equal(null);
  });

  it("stops intake at once when the chain diverges: 503 CHAIN_DIVERGED, not ready, proofs still served", async () => {
    const { issuer, post, app, anchorer, registry, publisher } = await setup();
    await post(issuer, [issue("alice", "phone A")]);
    const genesis = (await registry.latestBatch()).statusRoot;
    await registry.connect(publisher).anchor(1, genesis, h("a rogue root"), h("events"), 1, "0x01");
    await anchorer.step().catch(() => undefined);
    const refused = await post(issuer, [issue("bob", "phone B")]);
    expect([refused.status, refused.body.code]).to.deep.equal([503, "CHAIN_DIVERGED"]);
    expect((await app.inject("/ready")).statusCode).to.equal(503);
    expect((await app.inject("/v1/status/0")).statusCode, "verifiers still get the last root this service anchored").to.equal(200);
  });

  it("limits submissions per signing key: 429 RATE_LIMITED with Retry-After, nothing accepted, other keys unaffected", async () => {
    const perSigner = await setup({ signerSubmissionsPerMinute: 2 });
    for (const n of [1, 2]) expect((await perSigner.post(perSigner.issuer, [issue(`h${n}`, `d${n}`)])).status).to.equal(202);
    const third = await perSigner.post(perSigner.issuer, [issue("h3", "d3")]);
    expect([third.status, third.body.code]).to.deep.equal([429, "RATE_LIMITED"]);
    expect(Number(third.headers["retry-after"])).to.be.within(1, 60);
    expect((await perSigner.post(perSigner.operator, [perSigner.lock("d1")])).status, "another key").to.equal(202);
    expect((await perSigner.status(2)).pending).to.equal(null);
  });

  it("limits locks per operator: over its rate 429 RATE_LIMITED and one alarm, nothing of it accepted; other operators go on", async () => {
    const alarms: [string, number, number][] = [];
    const rate = new LockRate(2, (operator, locks, perMinute) => alarms.push([operator, locks, perMinute]));
    const { issuer, operator, stranger, registry, admin, post, lock, status, follower } = await setup({}, {}, undefined, undefined, rate);
    await registry.connect(admin).grantRole(await registry.OPERATOR_ROLE(), stranger.address);
    await follower.advance();
    await post(
      issuer,
      ["a", "b", "c", "d"].map((name) => issue(name, `phone ${name}`)),
    );
    expect((await post(operator, [lock("phone a"), lock("phone b")])).status).to.equal(202);
    const over = await post(operator, [lock("phone c")]);
    expect([over.status, over.body.code]).to.deep.equal([429, "RATE_LIMITED"]);
    expect(Number(over.headers["retry-after"])).to.be.within(1, 60);
    expect((await post(operator, [lock("phone c")])).status).to.equal(429);
    expect(alarms, "one alarm per operator and minute").to.deep.equal([[operator.address, 3, 2]]);
    expect((await status(2)).pending, "issued, not locked").to.include({ status: Status.Active });
    expect((await post(stranger, [lock("phone d", stranger)])).status, "another operator").to.equal(202);
  });

  it("lets an operator lock only the phones that granted it their lock: 403 LOCK_NOT_GRANTED otherwise", async () => {
    const { issuer, operator, stranger, registry, admin, post, lock, status, follower, domain } = await setup();
    await registry.connect(admin).grantRole(await registry.OPERATOR_ROLE(), stranger.address);
    await follower.advance();
    await post(issuer, [issue("alice", "phone A")]);
    const forged = await post(stranger, [lock("phone A")]); // the grant names the operator, not the stranger
    expect([forged.status, forged.body.code]).to.deep.equal([403, "LOCK_NOT_GRANTED"]);
    expect(forged.body.message).to.match(/granted its lock to operator 0x[0-9a-fA-F]{40}, not to/);
    const expired = await post(operator, [testPhone("phone A").lock(domain, operator.address, 1_000)]);
    expect([expired.status, expired.body.code]).to.deep.equal([403, "LOCK_NOT_GRANTED"]);
    const bare = await post(operator, [{ kind: EventKind.LockDevice, deviceKeyHash: testPhone("phone A").hash }]);
    expect([bare.status, bare.body.code]).to.deep.equal([400, "INVALID_EVENT"]);
    expect((await status(0)).pending, "issued, not locked").to.include({ status: Status.Active });
    expect((await post(operator, [lock("phone A")])).status).to.equal(202);
  });

  it("limits submissions per client address before any work: 429 RATE_LIMITED", async () => {
    const perClient = await setup({ clientSubmissionsPerMinute: 1 });
    expect((await perClient.post(perClient.issuer, [issue("a", "1")])).status).to.equal(202);
    const second = await perClient.post(perClient.issuer, [issue("b", "2")]);
    expect([second.status, second.body.code]).to.deep.equal([429, "RATE_LIMITED"]);
  });

  it("a lock races a reinstate: the lock is 202 on a suspended ID, the stale reinstate 409 SUSPENSION_CHANGED", async () => {
    const { issuer, operator, post, status, lock } = await setup();
    await post(issuer, [issue("alice", "phone A")]);
    await post(issuer, [{ kind: EventKind.Suspend, index: 0, reason: Reason.HolderRequest }]);
    const locked = await post(operator, [lock("phone A")]);
    expect(locked.status).to.equal(202);
    const stale = await post(issuer, [{ kind: EventKind.Reinstate, index: 0, reason: Reason.HolderRequest }]);
    expect([stale.status, stale.body.code]).to.deep.equal([409, "SUSPENSION_CHANGED"]);
    expect((await status(0)).pending).to.include({ status: Status.Suspended, reason: Reason.LostDevice });
  });

  it("weights status queries by their size: a client's budget counts indexes, not requests", async () => {
    const { app } = await setup({ verifierRequestsPerMinute: 10 });
    const query = (indexes: number[]) => app.inject({ method: "POST", url: "/v1/status/query", payload: { indexes } });
    // 5 indexes a query: two queries use up 10 indexes a minute
    expect((await query([0, 1, 2, 3, 4])).statusCode).to.equal(200);
    expect((await query([0, 1, 2, 3, 4])).statusCode).to.equal(200);
    const third = await query([0, 1, 2, 3, 4]);
    expect([third.statusCode, third.json().code]).to.deep.equal([429, "RATE_LIMITED"]);
    // single reads have their own budget of 10 requests
    expect((await app.inject({ method: "GET", url: "/v1/status/0" })).statusCode).to.equal(200);
  });

  it("refuses a body over the limit with 413 BODY_TOO_LARGE", async () => {
    const { issuer, post } = await setup({ bodyLimitBytes: 2048, verifierRequestsPerMinute: 100 }, { maxBacklog: 10 });
    const events = Array.from({ length: 20 }, (_, i) => issue(`holder ${i}`, `phone ${i}`));
    const response = await post(issuer, events);
    expect([response.status, response.body.code]).to.deep.equal([413, "BODY_TOO_LARGE"]);
  });

  it("serves health, readiness, metrics, the OpenAPI document, and coded 404s", async () => {
    const { issuer, post, app, anchorer } = await setup();
    await post(issuer, [issue("alice", "phone A")]);
    expect((await app.inject("/health")).json()).to.deep.equal({ status: "ok" });
    expect((await app.inject("/ready")).statusCode).to.equal(200);
    const metrics = (await app.inject("/metrics")).body;
    expect(metrics).to.match(/registry_events_accepted_total 1\n/);
    expect(metrics).to.match(/registry_backlog_submissions 1\n/);
    expect(metrics).to.match(/registry_backlog_events 1\n/);
    await anchorer.step();
    const after = (await app.inject("/metrics")).body;
    expect(after, "the queue depth follows anchoring").to.match(/registry_backlog_submissions 0\n/);
    expect(after).to.match(/registry_backlog_events 0\n/);
    const openapi = (await app.inject("/docs/json")).json();
    expect(Object.keys(openapi.paths)).to.include.members(["/v1/submissions", "/v1/status/{index}", "/v1/status/query"]);
    expect((await app.inject("/nowhere")).json().code).to.equal("NOT_FOUND");
  });
});
