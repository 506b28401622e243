/**
 * npm run bench:verifier: a bank's checks per second through the SDK, against the real service
 * (child process) and a Hardhat node (child process), with the anchored root cached and with a
 * chain call on every check, measured in the same run. Each check fetches a status and proof over
 * HTTP and verifies the proof locally.
 */
import { Hasher } from "../registry-service/src/core";
import { connectRpc, createVerifier, type Verifier } from "../registry-service/src/verifier";
import { devAccount } from "../scripts/embedded-chain";
import { ev, h } from "../test/support/scriptedPublisher";
import { fmt, signer, startServiceStack, timeAsync } from "./support";

const CREDENTIALS = 1_000;
const CHECKS = 3_000;
const CONCURRENCY = 8;

async function main() {
  const stack = await startServiceStack("verifier", { BATCH_INTERVAL_MS: "200" });
  const { chain, deployment, domain, service } = stack;
  try {
    const sign = signer(await Hasher.create(), devAccount(2), domain);
    const events = Array.from({ length: CREDENTIALS }, (_, k) => ev.issue(`holder ${k}`, `device ${k}`));
    const response = await fetch(`${service.url}/v1/submissions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(sign(h("bulk"), events)),
    });
    if (response.status !== 202) throw new Error(`issuing failed: HTTP ${response.status}`);
    const presented = (k: number) => ({ credentialCommitment: events[k].credentialCommitment, deviceKeyHash: events[k].deviceKeyHash });

    const provider = await connectRpc(chain.rpcUrl);
    const run = async (verifier: Verifier) => {
      let next = 0;
      let valid = 0;
      const worker = async () => {
        while (next < CHECKS) {
          const k = next++ % CREDENTIALS;
          if ((await verifier.check(k, presented(k))).valid) valid++;
        }
      };
      const { seconds } = await timeAsync(() => Promise.all(Array.from({ length: CONCURRENCY }, worker)));
      if (valid !== CHECKS) throw new Error(`only ${valid} of ${CHECKS} checks were valid`);
      return CHECKS / seconds;
    };
    const cached = await createVerifier({ chain: provider, registry: deployment.address, sources: [service.url], rootCacheMs: 2000 });
    for (let i = 0; i < 100 && !(await cached.check(0, presented(0))).valid; i++) await new Promise((r) => setTimeout(r, 100)); // until anchored
    const uncached = await createVerifier({ chain: provider, registry: deployment.address, sources: [service.url], rootCacheMs: 0 });
    await run(cached); // warm-up
    const withCache = await run(cached);
    const withoutCache = await run(uncached);
    console.log(
      `${fmt(CHECKS)} checks of ${fmt(CREDENTIALS)} credentials, ${CONCURRENCY} at a time, service and Hardhat node on this machine\n`,
    );
    console.log("| verifier check (HTTP status + proof, local proof check, root on chain) | checks/s |");
    console.log("|---|---:|");
    console.log(`| anchored root cached (2 s) | ${fmt(withCache)} |`);
    console.log(`| chain call (rootInfo) on every check | ${fmt(withoutCache)} |`);
    console.log(`| ratio cached / uncached | ${(withCache / withoutCache).toFixed(2)} |`);
    provider.destroy();
  } finally {
    await stack.stop();
  }
}

main().catch((error) => {
  console.error(`bench:verifier failed: ${(error as Error).message}`);
  process.exit(1);
});
