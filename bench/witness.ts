/**
 * How long after an anchor k witnesses have attested its root, and so how long a lost-phone lock
 * takes to be refused (SUSPENDED) by a bank that requires k witnesses: the embedded chain (Hardhat's
 * node, a block per transaction), the real service as a child process, three witnesses following
 * the chain every 250 ms (the `mobile-id witness` default) and a bank, on the same machine.
 * Run: npm run bench:witness [-- --quick]   (docs/performance.md records what it printed)
 */
import { Contract, id, JsonRpcProvider } from "ethers";
import type { Hex } from "../registry-service/src/core";
import { REGISTRY_ABI } from "../registry-service/src/chain/read";
import { createVerifier } from "../registry-service/src/verifier";
import { Witness } from "../registry-service/src/witness/witness";
import { devAccount } from "../scripts/embedded-chain";
import { benchPhone, devSigners, fmt, issuePhones, median, percentile, post, startServiceStack, statusOf, table } from "./support";

const QUICK = process.argv.includes("--quick");
const LOCKS = QUICK ? 10 : 40;
const WITNESSES = [5, 6, 7];
const POLL_MS = 250;

const h = (label: string) => id(label) as Hex;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` every 5 ms until it holds; the time it first held, ms. */
async function until(probe: () => Promise<boolean>): Promise<number> {
  while (!(await probe())) await pause(5);
  return performance.now();
}

async function main() {
  const stack = await startServiceStack("witness", { OPERATOR_LOCKS_PER_MINUTE: "1000000" });
  const provider = new JsonRpcProvider(stack.chain.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
  const witnesses: Witness[] = [];
  try {
    const { service, domain, deployment } = stack;
    const admin = new Contract(
      deployment.address,
      [...REGISTRY_ABI, "function grantRole(bytes32 role, address account)"],
      devAccount(0).connect(provider),
    );
    for (const n of WITNESSES) await (await admin.grantRole(await admin.WITNESS_ROLE(), devAccount(n).address)).wait();
    for (const n of WITNESSES)
      witnesses.push(
        (await Witness.start({ provider, registry: deployment.address, signer: devAccount(n).connect(provider) })).follow(POLL_MS),
      );
    const { issuer, operator } = await devSigners(domain);
    await issuePhones(service.url, issuer, LOCKS);
    const bank = await createVerifier({
      chain: provider,
      registry: deployment.address,
      sources: [service.url],
      rootCacheMs: 0,
      minWitnesses: 2,
    });
    await until(
      async () =>
        (await bank.check(LOCKS - 1, { credentialCommitment: h(`c ${LOCKS - 1}`), deviceKeyHash: benchPhone(LOCKS - 1).hash })).valid,
    );

    const registry = new Contract(deployment.address, REGISTRY_ABI, provider);
    const anchored: number[] = [];
    const attested: number[][] = WITNESSES.map(() => []);
    const refused: number[] = [];
    for (let n = 0; n < LOCKS; n++) {
      const started = performance.now();
      await post(service.url, operator(h(`lock ${n}`), [benchPhone(n).lock(domain, devAccount(3).address)]));
      const presented = { credentialCommitment: h(`c ${n}`), deviceKeyHash: benchPhone(n).hash };
      const refusedAt = until(async () => (await bank.check(n, presented)).reason === "SUSPENDED"); // meanwhile PENDING_LOCK, then ROOT_UNWITNESSED
      let root = "";
      const anchoredAt = await until(async () => {
        const answer = await statusOf(service.url, n);
        root = answer.anchored.anchor.statusRoot;
        return answer.anchored.record.status === 2;
      });
      anchored.push(anchoredAt - started);
      for (let k = 1; k <= WITNESSES.length; k++) {
        const at = await until(async () => Number(await registry.attestations(root)) >= k);
        attested[k - 1].push(at - anchoredAt);
      }
      refused.push((await refusedAt) - started);
    }
    const row = (what: string, values: number[]) => [what, `${fmt(median(values))} ms`, `${fmt(percentile(values, 99))} ms`];
    console.log(
      `# Witness latency: embedded chain (Hardhat, automine), ${WITNESSES.length} witnesses polling every ${POLL_MS} ms, ${LOCKS} locks\n`,
    );
    table(
      ["what", "p50", "p99"],
      [
        row("lock reported -> anchored and served", anchored),
        ...attested.map((values, k) => row(`anchor -> ${k + 1} witness${k ? "es" : ""} attested`, values)),
        row("lock reported -> SUSPENDED at a bank requiring 2 witnesses", refused),
      ],
    );
  } finally {
    for (const witness of witnesses) witness.close();
    provider.destroy();
    await stack.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
