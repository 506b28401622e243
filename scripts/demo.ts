/**
 * npm run demo: the story of one mobile ID, on the embedded chain, narrated. Everything runs for
 * real: the Hardhat node, the registry, the service over HTTP, the bank's verifier SDK on its own
 * chain connection, a mirror, and the auditor's replay.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { hexlify, id } from "ethers";
import {
  signLockGrant,
  AppliedKind,
  blankEvent,
  Channel,
  credentialCommitment,
  deviceKeyHash,
  EventKind,
  Reason,
  Status,
  type EcPublicJwk,
  type Hex,
  type StatusEvent,
} from "../registry-service/src/core";
import { loadConfig } from "../registry-service/src/service/config";
import { startService } from "../registry-service/src/service/server";
import { createLogger } from "../registry-service/src/service/logger";
import { submitSigned } from "../registry-service/src/client/submissionClient";
import { connectRpc, createVerifier, verifyReceipt, type CheckResult } from "../registry-service/src/verifier";
import { runAudit } from "../registry-service/src/audit/audit";
import { startMirror } from "../registry-service/src/mirror/mirror";
import { deployDevRegistry, devAccount, startEmbeddedChain } from "./embedded-chain";

const h = (label: string) => id(label) as Hex;
/** A phone's device key as its wallet shows it: a fresh P-256 public key, as a JWK. */
const walletKey = () => generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ format: "jwk" }) as EcPublicJwk;
/** A wallet's device key pair: the public JWK its key attestation carries, and the private key only the phone holds. */
const walletKeys = () => {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const d = Buffer.from((privateKey.export({ format: "jwk" }) as { d: string }).d, "base64url");
  return { jwk: publicKey.export({ format: "jwk" }) as EcPublicJwk, privateKey: d };
};
const randomSalt = () => hexlify(randomBytes(32)) as Hex;
const BATCH_INTERVAL_MS = 500;
let step = 0;
const say = (title: string) => console.log(`\n${++step}. ${title}`);
const detail = (line: string) => console.log(`   ${line}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const verdict = (r: CheckResult) =>
  `${r.valid ? "ACCEPTED" : "REFUSED"} (${r.reason})${r.root ? `, proof checked against the root of batch ${r.root.batch} on the bank's own chain node` : ""}`;

async function main() {
  const chain = await startEmbeddedChain(Number(process.env.DEMO_CHAIN_PORT ?? 8645));
  const dir = mkdtempSync(path.join(tmpdir(), "mobile-id-demo-"));
  const closers: (() => Promise<unknown>)[] = [() => chain.stop(), async () => rmSync(dir, { recursive: true, force: true })];
  try {
    console.log("Mobile-ID status registry: a demo on the embedded chain");
    const deployment = deployDevRegistry(chain.rpcUrl, path.join(dir, "deployment.json"), 32);
    const service = await startService(
      loadConfig({
        RPC_URL: chain.rpcUrl,
        REGISTRY_ADDRESS: deployment.address,
        PUBLISHER_KEY: devAccount(1).privateKey,
        DATA_DIR: path.join(dir, "service"),
        PORT: "0",
        BATCH_INTERVAL_MS: String(BATCH_INTERVAL_MS),
      }),
      createLogger({ level: "silent" }), // the story is told below, not in the service's log
    );
    closers.unshift(() => service.close());
    detail(`chain ${chain.rpcUrl}, StatusRegistry ${deployment.address}, service ${service.url} (batches every ${BATCH_INTERVAL_MS} ms)`);

    const domain = { chainId: BigInt(deployment.chainId), verifyingContract: deployment.address };
    const [issuer, operator] = [devAccount(2), devAccount(3)];
    let nonce = 0;
    const submit = async (who: typeof issuer, events: Partial<StatusEvent>[]) => {
      const answer = await submitSigned(service.url, who, domain, {
        nonce: h(`demo ${nonce++}`),
        events: events.map((e) => ({ ...blankEvent(e.kind!), ...e })),
      });
      if (answer.status !== 202) throw new Error(`service refused: ${answer.body.code}: ${answer.body.message}`);
      return answer.body;
    };
    // the bank: its own chain connection, the service as status source, pending locks refused
    const bank = await createVerifier({
      chain: chain.rpcUrl,
      registry: deployment.address,
      sources: [service.url],
      pendingPolicy: "deny",
      rootCacheMs: 0,
    });
    const until = async (check: () => Promise<CheckResult>, done: (r: CheckResult) => boolean) => {
      for (let i = 0; i < 300; i++) {
        const result = await check();
        if (done(result)) return result;
        await sleep(50);
      }
      throw new Error("the expected state never came");
    };

    // what the service centre has: the wallet's device key (a P-256 JWK from its key attestation) and
    // the credential it is about to sign (its document number, and a salt it will carry)
    const aliceKeys = walletKeys();
    const alice = {
      phone: deviceKeyHash(aliceKeys.jwk),
      credential: credentialCommitment("KR-MID-2026-000001", randomSalt()),
    };
    say("At a service centre, Alice's mobile ID is issued to her phone (chip-card enrolment)");
    const issued = await submit(issuer, [
      { kind: EventKind.Issue, credentialCommitment: alice.credential, deviceKeyHash: alice.phone, channel: Channel.ChipCard },
    ]);
    const index = issued.applied![0].record.index;
    detail(`the issuer signed one EIP-712 submission; the service journalled it and gave status index ${index}`);
    const presented = { credentialCommitment: alice.credential, deviceKeyHash: alice.phone };
    let result = await until(
      () => bank.check(index, presented),
      (r) => r.valid,
    );
    detail(`anchored in batch ${result.root!.batch}`);

    say("Alice opens a bank account: the bank verifies her mobile ID");
    detail(`bank: ${verdict(result)}`);

    say("Alice's phone is stolen: her telecom operator reports the device lost");
    // signed by the phone when Alice's wallet enrolled with her operator: only that operator can lock it
    const grant = signLockGrant(aliceKeys.privateKey, domain, operator.address, Math.floor(Date.now() / 1000) + 365 * 86_400);
    const reported = performance.now();
    await submit(operator, [{ kind: EventKind.LockDevice, deviceKeyHash: alice.phone, grant }]);
    detail("the operator sends the phone's own grant (signed at enrolment); the service locks whatever ID that device carries");
    result = await bank.check(index, presented);
    detail(
      `a thief tries the phone at the bank ${((performance.now() - reported) / 1000).toFixed(2)} s after the report: ${verdict(result)}`,
    );
    result = await until(
      () => bank.check(index, presented),
      (r) => r.reason === "SUSPENDED",
    );
    const lockedAfter = (performance.now() - reported) / 1000;
    detail(`the lock is anchored on the chain ${lockedAfter.toFixed(2)} s after the report: ${verdict(result)}`);
    const receipt = await verifyReceipt({
      chain: chain.rpcUrl,
      registry: deployment.address,
      source: service.url,
      batch: result.record!.batch,
      position: 0,
    });
    detail(`the operator's receipt: ${receipt.message} (tx ${receipt.transactionHash?.slice(0, 18)}...)`);

    say("The phone is found: the issuer reinstates Alice's ID");
    await submit(issuer, [{ kind: EventKind.Reinstate, index, reason: Reason.LostDevice }]); // lifts the lost-device lock, named
    result = await until(
      () => bank.check(index, presented),
      (r) => r.valid,
    );
    detail(`bank: ${verdict(result)}`);

    say("Months later Alice gets a new phone: her ID is re-issued to it");
    const newPhone = {
      credentialCommitment: credentialCommitment("KR-MID-2026-000002", randomSalt()),
      deviceKeyHash: deviceKeyHash(walletKey()),
    };
    // the issuer's register knows Alice's current index; the chain learns only which index this one replaces
    const reissued = await submit(issuer, [{ kind: EventKind.Reissue, index, ...newPhone, channel: Channel.QrCode }]);
    const newIndex = reissued.applied!.find((a) => a.kind === AppliedKind.Issue)!.record.index;
    detail(`new status index ${newIndex}; the re-issue names index ${index}, revoked in the same batch (reason: superseded)`);
    result = await until(
      () => bank.check(newIndex, newPhone),
      (r) => r.valid,
    );
    detail(`bank, new phone: ${verdict(result)}`);
    result = await bank.check(index, presented);
    detail(`bank, old phone: ${verdict(result)}${result.record?.reason === Reason.Superseded ? ", reason SUPERSEDED" : ""}`);

    say("The bank scales out with a mirror that rebuilds the registry from the chain alone");
    const provider = await connectRpc(chain.rpcUrl);
    const mirror = await startMirror({ provider, registry: deployment.address, port: 0 });
    closers.unshift(() => mirror.close());
    const viaMirror = await createVerifier({ chain: provider, registry: deployment.address, sources: [mirror.url] });
    detail(
      `mirror ${mirror.url} replayed ${mirror.health().batch} batches; bank via mirror, new phone: ${verdict(await viaMirror.check(newIndex, newPhone))}`,
    );

    say("The auditor replays the whole chain");
    const report = await runAudit(provider, deployment.address);
    detail(
      `${report.ok ? "AUDIT PASSED" : `AUDIT FAILED: ${report.divergence?.message}`}: ${report.batches} batches, ${report.events} events, every signature and role checked at its block, every root recomputed from calldata`,
    );
    console.log(
      `\nSummary: a lost phone was refused at the bank at once (pending lock) and locked on the chain ${lockedAfter.toFixed(2)} s after the report.`,
    );
    if (!report.ok || Status[result.record!.status] !== "Revoked") process.exitCode = 1;
  } finally {
    for (const close of closers) await close().catch(() => undefined);
  }
}

main().catch((error) => {
  console.error(`demo failed: ${(error as Error).message}`);
  process.exit(1);
});
