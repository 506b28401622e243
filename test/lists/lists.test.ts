import { expect } from "chai";
import hre from "hardhat";
import { createPublicKey, verify } from "node:crypto";
import { inflateSync } from "node:zlib";
import cbor from "cbor";
import { decodeProtectedHeader, jwtVerify, type JWK } from "jose";
import { getListFromStatusListJWT } from "@sd-jwt/jwt-status-list";
import { LIST_SIZE, Status, TokenStatus, type Hex } from "../../registry-service/src/core";
import { baseApp, ListPublisher, listRoutes, ListSigner, type ListedState } from "../../registry-service/src/readApi";
import { startMirror } from "../../registry-service/src/mirror/mirror";
import { createListVerifier, type ListVerifierOptions } from "../../registry-service/src/verifier";
import type { ListIndexAnswer } from "../../registry-service/src/wire";
import { runAudit } from "../../registry-service/src/audit/audit";
import { deployWithRoles } from "../support/fixtures";
import { ev, ScriptedPublisher } from "../support/scriptedPublisher";

const DEPTH = 20;
const decodeCbor = (bytes: Uint8Array) => cbor.decodeFirstSync(bytes, { preferMap: true });

/** The W3C library is ESM only: loaded as such. */
const w3c = () => import("@digitalbazaar/vc-bitstring-status-list") as Promise<typeof import("@digitalbazaar/vc-bitstring-status-list")>;

describe("standard status lists: published from the anchored state, read by the SDK, third parties and the audit", function () {
  this.timeout(120_000);
  let publisher: ScriptedPublisher;
  let roles: Awaited<ReturnType<typeof deployWithRoles>>;
  let signer: ListSigner;
  let mirror: Awaited<ReturnType<typeof startMirror>>;
  let registry: Hex;
  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${mirror.url}${path}`, { headers });
  const listVerifier = (options: Partial<ListVerifierOptions> = {}) =>
    createListVerifier({ chain: hre.ethers.provider, registry, lists: mirror.url, listKey: signer.publicJwk, ...options });

  before(async () => {
    signer = await ListSigner.fromJwk(await ListSigner.generateJwk());
  });

  beforeEach(async () => {
    roles = await deployWithRoles(DEPTH);
    publisher = await ScriptedPublisher.create(roles.registry.connect(roles.publisher), DEPTH);
    registry = publisher.domain.verifyingContract as Hex;
    // 0 alice, 1 bob, 2 carol; then alice's phone is locked and bob's credential revoked
    await publisher.anchor([await publisher.sign(roles.issuer, [ev.issue("alice", "a"), ev.issue("bob", "b"), ev.issue("carol", "c")])]);
    await publisher.anchor([await publisher.sign(roles.operator, [ev.lock("a")]), await publisher.sign(roles.issuer, [ev.revoke(1)])]);
    mirror = await startMirror({ provider: hre.ethers.provider, registry, port: 0, pollMs: 60_000, lists: { signer } });
  });

  afterEach(async () => mirror.close());

  it("the index lists every list's URL with the anchor; the token list is a statuslist+jwt signed by the list key, naming that anchor", async () => {
    const index = (await (await get("/v1/lists")).json()) as ListIndexAnswer;
    expect(index.listSize).to.equal(LIST_SIZE);
    expect(index.status_lists).to.deep.equal([`${mirror.url}/v1/lists/token/0`]);
    expect(index.anchor).to.include({ batch: 2, statusRoot: publisher.tree.root, chainId: 31337 });
    const response = await get("/v1/lists/token/0");
    expect(response.headers.get("content-type")).to.equal("application/statuslist+jwt");
    const token = await response.text();
    const { payload, protectedHeader } = await jwtVerify(token, signer.publicJwk as JWK, {
      typ: "statuslist+jwt",
      subject: index.status_lists[0],
    });
    expect(protectedHeader).to.include({ alg: "ES256", kid: signer.kid });
    expect(payload).to.include.keys("iat", "exp", "ttl", "status_list", "anchor");
    expect((payload.exp as number) - (payload.iat as number)).to.equal(300);
    expect(payload.anchor).to.deep.equal(index.anchor);
    // @sd-jwt/jwt-status-list (third party) reads the entries as this registry's state says
    const list = getListFromStatusListJWT(token);
    expect([0, 1, 2, 3, LIST_SIZE - 1].map((i) => list.getStatus(i))).to.deep.equal([
      TokenStatus.Suspended,
      TokenStatus.Invalid,
      TokenStatus.Valid,
      TokenStatus.NotIssued,
      TokenStatus.NotIssued,
    ]);
  });

  it("the same list as a CWT (COSE_Sign1, ES256) when asked for application/statuslist+cwt", async () => {
    const response = await get("/v1/lists/token/0", { accept: "application/statuslist+cwt" });
    expect(response.headers.get("content-type")).to.equal("application/statuslist+cwt");
    expect(response.headers.get("vary")).to.match(/accept/i);
    const message = decodeCbor(new Uint8Array(await response.arrayBuffer()));
    expect(message.tag).to.equal(18);
    const [protectedHeader, , payload, signature] = message.value;
    expect(decodeCbor(protectedHeader)).to.deep.equal(
      new Map<number, unknown>([
        [1, -7],
        [16, "application/statuslist+cwt"],
      ]),
    );
    const toBeSigned = cbor.encode(["Signature1", Buffer.from(protectedHeader), Buffer.alloc(0), Buffer.from(payload)]);
    const key = createPublicKey({ key: signer.publicJwk as never, format: "jwk" });
    expect(verify("sha256", toBeSigned, { key, dsaEncoding: "ieee-p1363" }, signature)).to.equal(true);
    const claims = decodeCbor(payload) as Map<number | string, unknown>;
    expect(claims.get(2)).to.equal(`${mirror.url}/v1/lists/token/0`);
    expect(claims.get(65534)).to.equal(10);
    const entries = inflateSync((claims.get(65533) as Map<string, Uint8Array>).get("lst")!);
    expect(entries[0] & 0b11).to.equal(TokenStatus.Suspended); // entry 0, least significant bits first
  });

  it("the W3C credentials (VC-JOSE) read by @digitalbazaar/vc-bitstring-status-list: revocation and suspension bits", async () => {
    const { BitstringStatusList } = await w3c();
    const read = async (purpose: string) => {
      const token = await (await get(`/v1/lists/bitstring/${purpose}/0`)).text();
      expect(decodeProtectedHeader(token)).to.include({ typ: "vc+jwt", cty: "vc", alg: "ES256" });
      const { payload } = await jwtVerify(token, signer.publicJwk as JWK);
      const subject = payload.credentialSubject as { statusPurpose: string; encodedList: string; type: string };
      expect(payload.type).to.deep.equal(["VerifiableCredential", "BitstringStatusListCredential"]);
      expect(subject).to.include({ statusPurpose: purpose, type: "BitstringStatusList" });
      const list = await BitstringStatusList.decode({ encodedList: subject.encodedList });
      expect(list.length).to.equal(LIST_SIZE);
      return [0, 1, 2, 3].map((i) => list.getStatus(i));
    };
    expect(await read("revocation")).to.deep.equal([false, true, false, false]);
    expect(await read("suspension")).to.deep.equal([true, false, false, true]); // 3: not issued yet, suspended until it is
  });

  it("stable URLs for a CDN: ETag, 304 on If-None-Match, Cache-Control with the ttl; a new ETag after a batch; 404 past the lists", async () => {
    const first = await get("/v1/lists/token/0");
    const etag = first.headers.get("etag")!;
    expect(first.headers.get("cache-control")).to.equal("public, max-age=10");
    expect((await get("/v1/lists/token/0", { "if-none-match": etag })).status).to.equal(304);
    expect((await get("/v1/lists/token/0")).headers.get("etag")).to.equal(etag); // signed once per anchored batch
    await publisher.anchor([await publisher.sign(roles.issuer, [ev.reinstate(0)])]);
    await mirror.sync();
    const after = await get("/v1/lists/token/0", { "if-none-match": etag });
    expect(after.status).to.equal(200);
    expect(getListFromStatusListJWT(await after.text()).getStatus(0)).to.equal(TokenStatus.Valid);
    const missing = await get("/v1/lists/token/1");
    expect(missing.status).to.equal(404);
    expect(await missing.json()).to.include({ code: "NOT_FOUND" });
  });

  it("the SDK checks through the list: VALID, SUSPENDED, REVOKED, UNKNOWN_INDEX, with the anchor confirmed on its own node", async () => {
    const v = await listVerifier();
    const results = await Promise.all([2, 0, 1, 3, LIST_SIZE + 5].map((index) => v.check(index)));
    expect(results.map((r) => r.reason)).to.deep.equal(["VALID", "SUSPENDED", "REVOKED", "UNKNOWN_INDEX", "UNKNOWN_INDEX"]);
    expect(results[0].valid).to.equal(true);
    expect(results[0].root).to.include({ batch: 2, statusRoot: publisher.tree.root });
  });

  it("fails closed: another key's list is PROOF_INVALID, a superseded anchor too long ago ROOT_TOO_OLD, an unreachable publisher SOURCE_UNREACHABLE", async () => {
    const stranger = await ListSigner.fromJwk(await ListSigner.generateJwk());
    expect((await (await listVerifier({ listKey: stranger.publicJwk })).check(2)).reason).to.equal("PROOF_INVALID");
    // the mirror's list names batch 2; the chain moves on and the verifier's clock says a minute later
    const v = await listVerifier();
    expect((await v.check(2)).reason).to.equal("VALID");
    await publisher.anchor([await publisher.sign(roles.issuer, [ev.reinstate(0)])]);
    const supersededAt = (await hre.ethers.provider.getBlock("latest"))!.timestamp;
    const later = await listVerifier({ now: () => (supersededAt + 60) * 1000, maxRootAgeSeconds: 30 });
    const stale = await later.check(2);
    // a minute on, the list (exp 300 s) is still valid, but its root was superseded: refused like a stale proof
    expect(stale.reason).to.equal("ROOT_TOO_OLD");
    const gone = await listVerifier({ lists: "http://127.0.0.1:9" });
    expect((await gone.check(2)).reason).to.equal("SOURCE_UNREACHABLE");
  });

  it("the audit checks every published list against the replay (it passes), and reports a wrong entry with its evidence", async () => {
    const passed = await runAudit(hre.ethers.provider, registry, { lists: { url: mirror.url, key: signer.publicJwk } });
    expect(passed.findings).to.deep.equal([]);
    expect(passed.lists).to.deep.equal({ url: mirror.url, checked: 4 });

    // a publisher whose state lies about carol (index 2): shown as revoked although she is active
    const lying = await lyingPublisher(mirror.follower.replayer, signer, registry, 2);
    try {
      const report = await runAudit(hre.ethers.provider, registry, { lists: { url: lying.url, key: signer.publicJwk } });
      expect(report.ok).to.equal(false);
      // the JWT, the CWT and the W3C revocation credential (the suspension bit is 0 for active and revoked alike)
      expect(report.counts).to.deep.equal({ LIST_ENTRY_MISMATCH: 3 });
      const jwt = report.findings.find((finding) => finding.list?.form === "jwt")!;
      expect(jwt).to.deep.include({ batch: 2, expected: "Valid", computed: "Invalid" });
      expect(jwt.list).to.deep.equal({ url: `${lying.url}/v1/lists/token/0`, form: "jwt", index: 2 });
      // and a list signed by another key is a finding of its own
      const stranger = await ListSigner.fromJwk(await ListSigner.generateJwk());
      const unsigned = await runAudit(hre.ethers.provider, registry, { lists: { url: mirror.url, key: stranger.publicJwk } });
      expect(unsigned.counts).to.deep.equal({ LIST_SIGNATURE_INVALID: 4 });
    } finally {
      await lying.close();
    }
  });
});

/** The lists of `state`, except that `index` reads as revoked: what an auditor must catch. */
async function lyingPublisher(state: ListedState, signer: ListSigner, registry: Hex, index: number) {
  const lie: ListedState = Object.create(state, {
    status: { value: (i: number) => (i === index ? Status.Revoked : state.status(i)) },
    onAdvance: { value: () => undefined },
  });
  const app = await baseApp({ title: "lying lists" });
  const publisher = new ListPublisher(lie, {
    signer,
    baseUrl: "",
    issuer: "",
    registry,
    chainId: 31337,
    ttlSeconds: 10,
    validitySeconds: 300,
  });
  await app.register(listRoutes(publisher), { prefix: "/v1" });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  publisher.settings.baseUrl = publisher.settings.issuer = url;
  return { url, close: () => app.close() };
}
