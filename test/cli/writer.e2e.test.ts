import { expect } from "chai";
import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { JsonRpcProvider, id } from "ethers";
import { StatusRegistry__factory } from "../../typechain-types";
import { credentialCommitment, deviceKeyHash, roleId, Status, type EcPublicJwk, type Hex } from "../../registry-service/src/core";
import type { StatusAnswer } from "../../registry-service/src/wire";
import { loadConfig } from "../../registry-service/src/service/config";
import { startService } from "../../registry-service/src/service/server";
import { devAccount, startEmbeddedChain } from "../../scripts/embedded-chain";
import { devDeployment } from "../support/devDeployment";
import { silentLog } from "../support/logs";

type Run = { status: number | null; signal: string | null; stdout: string; stderr: string };

const KEYS = { admin: devAccount(0), issuer: devAccount(2), operator: devAccount(3) };
const random32 = (label: string) => id(`${label} ${Math.random()}`) as Hex;

/** A phone's wallet key: the public JWK its key attestation carries, and the private one (only the wallet holds it). */
function phoneKeys(): { jwk: EcPublicJwk; privateJwk: object } {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { jwk: publicKey.export({ format: "jwk" }) as EcPublicJwk, privateJwk: privateKey.export({ format: "jwk" }) };
}

/**
 * The writer CLI as issuers, operators and the admin run it: scripts/mobile-id.js as a child
 * process against the real service on the embedded chain.
 */
describe("mobile-id for issuers, operators and the admin, against the service on the embedded chain", function () {
  this.timeout(180_000);
  const cleanup: (() => Promise<unknown> | unknown)[] = [];
  let env: Record<string, string>;
  let dir: string;
  let serviceUrl: string;
  let registryAddress: string;
  let rpcUrl: string;

  before(async () => {
    const chain = await startEmbeddedChain(0);
    cleanup.push(() => chain.stop());
    const deployment = devDeployment(chain.rpcUrl, 20, { BATCH_INTERVAL_MS: "200" });
    cleanup.push(deployment.temp.remove);
    const service = await startService(loadConfig(deployment.env), silentLog());
    cleanup.push(() => service.close());
    [dir, serviceUrl, registryAddress, rpcUrl] = [deployment.temp.dir, service.url, deployment.deployment.address, chain.rpcUrl];
    env = {
      MOBILE_ID_SERVICE: serviceUrl,
      STATUS_SOURCE: serviceUrl,
      RPC_URL: rpcUrl,
      REGISTRY_ADDRESS: registryAddress,
      MOBILE_ID_PRIVATE_KEY: "",
      MOBILE_ID_KEYSTORE: "",
      MOBILE_ID_KEYSTORE_PASSWORD: "",
    };
  });

  after(async () => {
    for (const step of cleanup.reverse()) await Promise.resolve(step()).catch(() => undefined);
  });

  const cli = (args: string[], extra: Record<string, string> = {}) =>
    new Promise<Run>((resolve) => {
      const child = execFile(
        process.execPath,
        ["scripts/mobile-id.js", ...args],
        { env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "1", ...env, ...extra } },
        (_error, stdout, stderr) => resolve({ status: child.exitCode, signal: child.signalCode, stdout, stderr }),
      );
    });
  const as = (who: keyof typeof KEYS) => ({ MOBILE_ID_PRIVATE_KEY: KEYS[who].privateKey });
  /** Runs the CLI with --json and returns the document it printed; any other exit code fails with its stderr. */
  const json = async (args: string[], extra: Record<string, string> = {}, expected = 0) => {
    const run = await cli([...args, "--json"], extra);
    expect(run.status, run.stderr).to.equal(expected);
    return JSON.parse(run.stdout);
  };
  const file = (name: string, contents: string) => {
    const where = path.join(dir, name);
    writeFileSync(where, contents);
    return where;
  };
  const statusOf = async (index: number) => (await (await fetch(`${serviceUrl}/v1/status/${index}`)).json()) as StatusAnswer;

  it("issues from a JWK, locks by line as the operator with the phone's grant; verify says REGISTRY_PAUSED while anchoring is held back and SUSPENDED after", async () => {
    const { jwk, privateJwk } = phoneKeys();
    const issued = await json(
      ["issue", "--device-key", file("phone.jwk", JSON.stringify(jwk)), "--credential-id", "DOC-1", "--wait"],
      as("issuer"),
    );
    expect(issued).to.include({ command: "issue", status: 202 });
    expect(issued.anchored.transactionHash).to.match(/^0x[0-9a-f]{64}$/);
    expect(issued.credential.deviceKeyHash).to.equal(deviceKeyHash(jwk));
    expect(issued.credential.credentialCommitment).to.equal(credentialCommitment("DOC-1", issued.credential.salt));
    const index = issued.applied[0].index as number;
    const presented = ["--commitment", issued.credential.credentialCommitment, "--device", issued.credential.deviceKeyHash];

    // the admin holds the anchor back, so that the moment between the lock and its anchor can be looked at
    const admin = { MOBILE_ID_KEYSTORE_PASSWORD: "correct horse", MOBILE_ID_KEYSTORE: path.join(dir, "admin.keystore.json") };
    expect(await json(["keystore", "create", "--out", admin.MOBILE_ID_KEYSTORE], { ...admin, ...as("admin") })).to.include({
      address: KEYS.admin.address,
      generated: false,
    });
    expect(await json(["pause"], admin)).to.include({ paused: true, changed: true });

    // enrolment: the wallet grants its operator the lock, signed with the device key; the operator keeps it by line
    const grantArgs = [
      "device-grant",
      "--device-key",
      file("phone.private.jwk", JSON.stringify(privateJwk)),
      "--operator",
      KEYS.operator.address,
    ];
    const granted = await json(grantArgs);
    expect(granted).to.include({ deviceKeyHash: deviceKeyHash(jwk), operator: KEYS.operator.address });
    const bindings = file("bindings.csv", `line,grant\n+372 5550 1234,${granted.grant}\n+372 5550 9999,0x00\n`);
    const locked = await json(["lock", "--line", "00372 5550-1234", "--bindings", bindings], as("operator"));
    expect(locked.line).to.equal("+37255501234");
    expect(locked.locks).to.have.length(1);
    expect(locked.locks[0].applied[0]).to.include({ kind: "LOCK_DEVICE", index, status: "SUSPENDED", reason: "LOST_DEVICE" });

    const pending = await cli(["verify", String(index), ...presented]);
    // paused, no lock could be anchored: the bank refuses whatever the record says (docs/spec.md 5.3)
    expect([pending.status, pending.stdout.split(":")[0]]).to.deep.equal([1, "REGISTRY_PAUSED"]);

    expect(await json(["unpause"], admin)).to.include({ paused: false, changed: true });
    const lock = locked.locks[0];
    const followed = await json(["submission", lock.signer, lock.nonce, "--wait"]);
    expect(followed).to.include({ state: "anchored" });
    expect(followed.verifiedReceipts.map((receipt: { verified: boolean }) => receipt.verified)).to.deep.equal([true]);

    const [anchored, again] = await Promise.all([
      cli(["verify", String(index), ...presented]),
      json(["lock", "--grant", granted.grant], as("operator")), // a repeated lock is harmless
    ]);
    expect([anchored.status, anchored.stdout.split(":")[0]]).to.deep.equal([1, "SUSPENDED"]);
    expect(again.applied[0]).to.include({ kind: "LOCK_DEVICE", index, status: "SUSPENDED" });
  });

  it("re-issues through the issuer's register: the holder's live index is superseded, a revoked one is not", async () => {
    const issuer = { ...as("issuer"), ISSUER_HOLDER_KEY: random32("holder key") };
    const register = path.join(dir, "register.json");
    const issue = (nationalId: string, credentialId: string) =>
      json(
        [
          "issue",
          "--national-id",
          nationalId,
          "--register",
          register,
          "--device-key-hash",
          random32("phone"),
          "--credential-id",
          credentialId,
        ],
        issuer,
      );
    const first = await issue("900101-1234567", "DOC-A");
    expect(first.command).to.equal("issue");
    const second = await issue("900101 1234567", "DOC-B"); // the same person, written another way
    expect(second.command).to.equal("reissue");
    expect(second.applied.map((change: { kind: string; index: number }) => [change.kind, change.index])).to.deep.equal([
      ["SUPERSEDE", first.applied[0].index],
      ["ISSUE", first.applied[0].index + 1],
    ]);
    const kept = readFileSync(register, "utf8");
    expect(Object.values(JSON.parse(kept).holders)).to.deep.equal([second.applied[1].index]);
    expect(kept).not.to.match(/900101|1234567/); // only the keyed holderRef

    await json(["revoke", "--index", String(second.applied[1].index), "--reason", "holder-request"], issuer);
    expect((await issue("900101-1234567", "DOC-C")).command).to.equal("issue");
  });

  it("bulk from CSV, killed after a post and after a signature, resumes: every line applied exactly once", async () => {
    const given = random32("given salt");
    const rows = Array.from({ length: 13 }, (_, i) => `issue,${random32(`bulk phone ${i}`)},BULK-${i},${i === 0 ? given : ""},qr-code`);
    const csv = file("bulk.csv", ["kind,device-key-hash,credential-id,salt,channel", ...rows].join("\n"));
    const state = `${csv}.progress.json`;
    const bulk = (crashAt?: string) =>
      cli(["bulk", csv, "--max-events", "3", "--json"], { ...as("issuer"), ...(crashAt ? { MOBILE_ID_BULK_CRASH_AT: crashAt } : {}) });
    const stored = () => JSON.parse(readFileSync(state, "utf8"));

    // killed once the second chunk was posted (the service took it), before its answer was stored
    expect((await bulk("posted:1")).signal).to.equal("SIGKILL");
    expect(stored().chunks.map((chunk: { outcome?: unknown }) => Boolean(chunk.outcome))).to.deep.equal([true, false]);
    // killed once the fourth chunk was stored and signed, before it was posted; then its deadline is made to have passed
    expect((await bulk("signed:3")).signal).to.equal("SIGKILL");
    const interrupted = stored();
    const neverPosted = interrupted.chunks[3].nonce;
    interrupted.chunks[3].deadline = Math.floor(Date.now() / 1000) - 60;
    writeFileSync(state, JSON.stringify(interrupted));

    const done = await bulk();
    expect(done.status, done.stderr).to.equal(0);
    const summary = JSON.parse(done.stdout);
    expect(summary).to.include({ lines: 13, submissions: 5, applied: 13 });
    const chunks = stored().chunks;
    expect(chunks[1].outcome.status, "the resend of the chunk posted before the kill").to.equal(200);
    expect(chunks[3].expired, "signed again under a new nonce").to.deep.equal([neverPosted]);
    expect((await fetch(`${serviceUrl}/v1/submissions/${KEYS.issuer.address}/${neverPosted}`)).status).to.equal(404);

    // each line once, in order: consecutive indexes, each holding its line's credential, and nothing after the last
    const results = summary.results as { line: number; index: number; salt?: Hex }[];
    const first = results[0].index;
    expect(results.map((result) => result.index)).to.deep.equal(rows.map((_, i) => first + i));
    for (const [i, result] of results.entries()) {
      const answer = await statusOf(result.index);
      const record = answer.pending ?? answer.anchored.record;
      expect(record.credentialCommitment, `line ${result.line}`).to.equal(credentialCommitment(`BULK-${i}`, result.salt ?? given));
    }
    const after = await statusOf(first + rows.length);
    expect([after.anchored.record.status, after.pending]).to.deep.equal([Status.None, null]);

    // NDJSON, one event a submission: a refused line is reported with its code and line number, the others applied; exit 1
    const ndjson = file(
      "changes.ndjson",
      [
        { kind: "suspend", index: first, reason: "lost-device" },
        { kind: "revoke", index: first + 1, reason: "key-compromise" },
        { kind: "suspend", index: first + 1, reason: "holder-request" },
        { kind: "reinstate", index: first, reason: "lost-device" },
      ]
        .map((line) => JSON.stringify(line))
        .join("\n"),
    );
    const changes = await cli(["bulk", ndjson, "--max-events", "1", "--json"], as("issuer"));
    expect(changes.status, changes.stderr).to.equal(1);
    const changed = JSON.parse(changes.stdout);
    expect(changed).to.include({ lines: 4, applied: 3 });
    expect(changed.refused.map(({ lines, code }: { lines: number[]; code: string }) => ({ lines, code }))).to.deep.equal([
      { lines: [3], code: "CREDENTIAL_REVOKED" },
    ]);
  });

  it("roles grant, list and revoke with the admin's key; a non-admin, a key on the command line and bad input are refused", async () => {
    const newcomer = devAccount(7).address;
    expect(await json(["roles", "grant", "issuer", newcomer], as("admin"))).to.include({ role: "ISSUER_ROLE", changed: true });
    const listed = await json(["roles", "list"]);
    expect(listed.roles.ISSUER_ROLE.map((holder: { account: string }) => holder.account)).to.include(newcomer);
    expect(listed).to.include({ paused: false });
    expect(await json(["roles", "revoke", "issuer", newcomer], as("admin"))).to.include({ changed: true });
    const registry = StatusRegistry__factory.connect(registryAddress, new JsonRpcProvider(rpcUrl));
    expect(await registry.hasRole(roleId("ISSUER_ROLE"), newcomer)).to.equal(false);

    // a correction's approval (docs/runbook.md): harmless to the running service, which acts on one only at start
    const latest = Number((await registry.latestBatch()).batch);
    expect(latest).to.be.greaterThan(0);
    expect(await json(["approve-correction", String(latest - 1)], as("admin"))).to.include({ base: latest - 1, through: latest });
    expect((await registry.approvedCorrection()).map(Number)).to.deep.equal([latest - 1, latest]);

    // the admin's two-step hand-over (docs/runbook.md), begun and cancelled; a witness granted and revoked
    expect((await json(["admin", "transfer", newcomer], as("admin"))).pending).to.include({ admin: newcomer });
    expect((await json(["admin", "show"])).pending).to.include({ admin: newcomer });
    expect(await json(["admin", "cancel"], as("admin"))).to.include({ admin: KEYS.admin.address, pending: null });
    expect(await json(["roles", "grant", "witness", newcomer], as("admin"))).to.include({ role: "WITNESS_ROLE", changed: true });
    expect(await json(["roles", "revoke", "witness", newcomer], as("admin"))).to.include({ changed: true });

    // a consortium member's witness: replays the chain, attests the latest root, stops on SIGTERM
    const witness = devAccount(4);
    await json(["roles", "grant", "witness", witness.address], as("admin"));
    const running = execFile(process.execPath, ["scripts/mobile-id.js", "witness", "--json"], {
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "1", ...env, MOBILE_ID_PRIVATE_KEY: witness.privateKey },
    });
    const exited = new Promise<number | null>((resolve) => running.once("exit", resolve));
    const started = JSON.parse(await new Promise<string>((resolve) => running.stdout!.once("data", resolve))); // printed once it has attested
    const current = await registry.latestBatch();
    expect(started).to.include({ witness: witness.address, batch: Number(current.batch), divergence: null });
    expect(await registry.hasAttested(current.statusRoot, witness.address)).to.equal(true);
    running.kill("SIGTERM");
    expect(await exited, "the witness stops on SIGTERM").to.equal(0);

    const fresh = phoneKeys().privateJwk;
    const neverIssued = await json([
      "device-grant",
      "--device-key",
      file("fresh.jwk", JSON.stringify(fresh)),
      "--operator",
      KEYS.operator.address,
    ]);
    const [notAdmin, keyArgument, badReason, unknownDevice, correctionOnLatest, publisherWitness, acceptUnoffered] = await Promise.all([
      cli(["pause"], as("issuer")),
      cli(["lock", "--grant", random32("x"), "--private-key", KEYS.operator.privateKey]),
      cli(["suspend", "--index", "0", "--reason", "lsot"], as("issuer")),
      cli(["lock", "--grant", neverIssued.grant], as("operator")),
      cli(["approve-correction", "1000000"], as("admin")),
      cli(["roles", "grant", "witness", devAccount(1).address], as("admin")),
      cli(["admin", "accept"], as("issuer")),
    ]);
    for (const [run, status, message] of [
      [notAdmin, 1, /does not hold DEFAULT_ADMIN_ROLE/],
      [keyArgument, 2, /--private-key: a key or password is never taken as an argument/],
      [badReason, 2, /reason "lsot" is not one of lost-device, holder-request, key-compromise, administrative/],
      [unknownDevice, 1, /refused: 404 UNKNOWN_DEVICE/],
      [correctionOnLatest, 1, /refused by the registry: StatusRegistryInvalidCorrection\(1000000, \d+\)/],
      [publisherWitness, 1, /refused by the registry: StatusRegistryRoleConflict\(0x/],
      [acceptUnoffered, 1, /accept the admin transfer refused by the registry: AccessControlInvalidDefaultAdmin/],
    ] as const) {
      expect(run.status, run.stderr).to.equal(status);
      expect(run.stderr).to.match(/^mobile-id: [^\n]*\n$/);
      expect(run.stderr).to.match(message);
    }
  });
});
