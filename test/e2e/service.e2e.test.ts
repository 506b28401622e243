import { expect } from "chai";
import { devSubmitter, testPhone } from "../support/devices";
import { JsonRpcProvider, id } from "ethers";
import { StatusRegistry__factory } from "../../typechain-types";
import {
  Channel,
  EventKind,
  Hasher,
  Reason,
  Status,
  verifyStatusProof,
  type Hex,
  type StatusRecord,
} from "../../registry-service/src/core";
import { loadConfig } from "../../registry-service/src/service/config";
import { startService } from "../../registry-service/src/service/server";
import { devAccount, startEmbeddedChain, type ChainKind } from "../../scripts/embedded-chain";
import { chainCli } from "../support/cli";
import { devDeployment } from "../support/devDeployment";
import { capturedLog } from "../support/logs";
import { createVerifier, verifyReceipt } from "../../registry-service/src/verifier";
import { runAudit } from "../../registry-service/src/audit/audit";
import { startMirror } from "../../registry-service/src/mirror/mirror";

const h = (label: string) => id(label) as Hex;
type StatusView = {
  anchored: { record: StatusRecord; proof: string[]; anchor: { statusRoot: Hex; batch: number } };
  pending: StatusRecord | null;
};

/**
 * The real service over real HTTP against a real node process: Hardhat's, anvil, then anvil under
 * the consortium's rules (1 s interval blocks, Osaka, the Besu genesis's gas limit), where the
 * publisher's key stays in a remote signer (the node itself, as Web3Signer would: eth_signTransaction).
 */
for (const kind of ["hardhat", "anvil", "consortium"] as ChainKind[]) {
  describe(`end to end on ${kind}: HTTP -> LevelDB -> anchor -> proof checked against the chain`, function () {
    this.timeout(120_000);
    let cleanup: (() => Promise<void>)[] = [];
    after(async () => {
      for (const step of cleanup.reverse()) await step().catch(() => undefined);
      cleanup = [];
    });

    it("issues, locks a lost phone, and serves proofs a verifier can check on its own node", async () => {
      const chain = await startEmbeddedChain(0, 60_000, kind, { blockTime: 1 });
      cleanup.push(() => chain.stop());
      const { temp, deployment, env, domain } = devDeployment(chain.rpcUrl, 32, { BATCH_INTERVAL_MS: "200" });
      cleanup.push(async () => temp.remove());
      const consortium = kind === "consortium";
      if (consortium) {
        delete env.PUBLISHER_KEY;
        Object.assign(env, { PUBLISHER_SIGNER_URL: chain.rpcUrl, PUBLISHER_ADDRESS: devAccount(1).address });
      }
      const log = capturedLog("info");
      const service = await startService(loadConfig(env), log.logger);
      // the batch limit comes from the chain's rules: Osaka's cap and floor on the consortium, the block gas limit elsewhere
      const limit = log.lines().find((line) => line.msg.startsWith("batch limit:"))!;
      expect(limit.msg).to.match(consortium ? /tx cap 16777216 \(eth_config\), calldata floor 10\/40/ : /^batch limit: \d+ bytes/);
      cleanup.push(() => service.close());

      const submit = devSubmitter(service.url, domain);
      const status = async (index: number) => (await (await fetch(`${service.url}/v1/status/${index}`)).json()) as StatusView;
      /** Waits (bounded) until the anchored view reaches `predicate`: anchoring runs on its own clock. */
      const anchoredUntil = async (index: number, predicate: (s: StatusView) => boolean) => {
        for (let attempt = 0; attempt < 200; attempt++) {
          const view = await status(index);
          if (predicate(view)) return view;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        throw new Error(
          `index ${index} never reached the expected anchored state: ${log
            .lines()
            .filter((line) => line.level >= 40)
            .map((line) => JSON.stringify(line))
            .slice(-3)
            .join("\n")}`,
        );
      };

      const issued = await submit(2, "bulk", [
        {
          kind: EventKind.Issue,
          credentialCommitment: h("c alice"),
          deviceKeyHash: testPhone("alice phone").hash,
          channel: Channel.ChipCard,
        },
        {
          kind: EventKind.Issue,
          credentialCommitment: h("c bob"),
          deviceKeyHash: testPhone("bob phone").hash,
          channel: Channel.QrCode,
        },
      ]);
      expect(issued.status).to.equal(202);
      const reused = await submit(2, "bulk", [{ kind: EventKind.Reinstate, index: 0, reason: Reason.LostDevice }]);
      expect([reused.status, reused.body.code], "other events under a used nonce").to.deep.equal([409, "DUPLICATE_NONCE"]);
      expect((await submit(4, "stranger", [{ kind: EventKind.Reinstate, index: 0, reason: Reason.LostDevice }])).body.code).to.equal(
        "ROLE_REQUIRED",
      );

      let view = await anchoredUntil(0, (s) => s.anchored.record.status === Status.Active);

      // a verifier checks the proof itself and the root against ITS OWN connection to the chain
      const hasher = await Hasher.create();
      const verifierNode = new JsonRpcProvider(chain.rpcUrl, undefined, { cacheTimeout: -1 });
      cleanup.push(async () => verifierNode.destroy());
      const registry = StatusRegistry__factory.connect(deployment.address, verifierNode);
      expect(verifyStatusProof(hasher, view.anchored.anchor.statusRoot, view.anchored.record, view.anchored.proof, 32)).to.equal(true);
      expect((await registry.rootInfo(view.anchored.anchor.statusRoot)).supersededAt).to.equal(0n);

      const locked = await submit(3, "lost phone", [{ kind: EventKind.LockDevice, deviceKeyHash: testPhone("alice phone").hash }]);
      expect(locked.status).to.equal(202);
      view = await anchoredUntil(0, (s) => s.anchored.record.status === Status.Suspended);
      expect(view.anchored.record.reason).to.equal(Reason.LostDevice);
      expect(await registry.verifyStatus(view.anchored.anchor.statusRoot, view.anchored.record, view.anchored.proof)).to.equal(
        BigInt(Status.Suspended),
      );
      expect((await status(1)).anchored.record.status).to.equal(Status.Active);

      // the bank's SDK over real HTTP and its own JSON-RPC connection
      const alice = { credentialCommitment: h("c alice"), deviceKeyHash: testPhone("alice phone").hash };
      const bank = await createVerifier({ chain: chain.rpcUrl, registry: deployment.address, sources: [service.url] });
      const lockedCheck = await bank.check(0, alice);
      expect(lockedCheck).to.include({ valid: false, reason: "SUSPENDED" });
      const bobCheck = await bank.check(1, { credentialCommitment: h("c bob"), deviceKeyHash: testPhone("bob phone").hash });
      expect(bobCheck).to.include({ valid: true, reason: "VALID" });
      expect(await bank.rootInfo(h("a root nobody anchored"))).to.equal(null); // the revert is read the same on this node

      // the auditor replays the service's history from the chain alone, and passes it
      const report = await runAudit(verifierNode, deployment.address);
      expect(report).to.include({ ok: true, batches: view.anchored.anchor.batch, statusRoot: view.anchored.anchor.statusRoot });

      // a mirror built from the chain answers exactly as the service does for the same anchored root
      const mirror = await startMirror({ provider: verifierNode, registry: deployment.address, port: 0, pollMs: 60_000 });
      cleanup.push(() => mirror.close());
      for (const index of [0, 1, 2, 2 ** 32 - 1]) {
        const [fromService, fromMirror] = await Promise.all([
          status(index),
          fetch(`${mirror.url}/v1/status/${index}`).then((r) => r.json()),
        ]);
        expect(fromMirror, `index ${index}`).to.deep.equal({ ...fromService, pending: null });
      }
      // and its recent batches' contents and receipts, replayed from calldata, are the service's
      for (const path of ["/v1/batches/1", "/v1/batches/2", "/v1/batches/2/receipts/0"]) {
        const [fromService, fromMirror] = await Promise.all(
          [service.url, mirror.url].map((base) => fetch(`${base}${path}`).then((r) => r.json())),
        );
        expect(fromMirror, path).to.deep.equal(fromService);
      }
      const gone = await fetch(`${mirror.url}/v1/batches/99`);
      expect([gone.status, ((await gone.json()) as { code: string }).code]).to.deep.equal([404, "NOT_FOUND"]);

      // the operator's receipt for the lock, checked against the chain's event root
      const receipt = await verifyReceipt({
        chain: chain.rpcUrl,
        registry: deployment.address,
        source: service.url,
        batch: view.anchored.record.batch,
        position: 0,
      });
      expect(receipt).to.include({ verified: true, kind: "LockDevice" });

      // and the same from the command line, as JSON, with exit codes a script can use
      // (asynchronously: the mirror it asks lives in this process)
      const cli = chainCli(chain.rpcUrl, deployment.address);
      const audited = await cli("audit");
      expect(audited.status, audited.stderr).to.equal(0);
      expect(JSON.parse(audited.stdout)).to.include({ ok: true, batches: report.batches });
      const verified = await cli(
        "verify",
        "0",
        "--commitment",
        alice.credentialCommitment,
        "--device",
        alice.deviceKeyHash,
        "--source",
        mirror.url,
      );
      expect(verified.status, verified.stderr).to.equal(1);
      expect(JSON.parse(verified.stdout)).to.include({ reason: "SUSPENDED" });

      // the chain goes away: the service stops calling itself ready within seconds, and a bank cannot confirm
      expect((await fetch(`${service.url}/ready`)).status).to.equal(200);
      await chain.stop();
      const deadline = Date.now() + 10_000;
      while ((await fetch(`${service.url}/ready`)).status !== 503) {
        if (Date.now() > deadline) expect.fail("/ready still answered 200 ten seconds after the chain stopped");
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(
        await (
          await createVerifier({ chain: chain.rpcUrl, registry: deployment.address, sources: [service.url], timeoutMs: 1000 })
        ).check(0, alice),
      ).to.include({
        valid: false,
        reason: "CHAIN_UNREACHABLE",
      });
      // nothing answering is the CLI's "could not run" (2), not a verdict on the credential (1)
      const present = ["--commitment", alice.credentialCommitment, "--device", alice.deviceKeyHash, "--source", service.url];
      const unconfirmed = await chainCli(chain.rpcUrl, deployment.address)("verify", "0", ...present);
      expect(unconfirmed.status, unconfirmed.stderr).to.equal(2);
      expect(JSON.parse(unconfirmed.stdout)).to.include({ valid: false, reason: "CHAIN_UNREACHABLE" });
    });
  });
}
