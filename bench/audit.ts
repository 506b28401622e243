/**
 * npm run bench:audit (BENCH_EVENTS=N for another size): the auditor's replay rate over a history of N events (default
 * 1,000,000) anchored on a Hardhat node: 25,000-event batches of bulk issuance plus lost-phone locks,
 * signed in 5,000-event submissions. Reports the whole audit (JSON-RPC reads included) and the replay
 * alone (signatures, roles, state machine, event tree, status tree) on the same fetched history.
 */
import hre from "hardhat";
import { ALL_ROLES, Hasher, type StatusEvent } from "../registry-service/src/core";
import { runAudit } from "../registry-service/src/audit/audit";
import { ChainFollower } from "../registry-service/src/audit/follower";
import { Replayer } from "../registry-service/src/audit/replay";
import { devAccount } from "../scripts/embedded-chain";
import { deployWithRoles } from "../test/support/fixtures";
import { ev, h, ScriptedPublisher } from "../test/support/scriptedPublisher";
import { fmt, signer, timeAsync, time } from "./support";

// `hardhat run` takes no script arguments: sizes come from the environment
const TOTAL = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const BATCH = 10_000;
const SUBMISSION = 5_000;
const LOCKS_PER_BATCH = 1_000;

async function main() {
  const { registry, publisher: publisherKey } = await deployWithRoles(32);
  const provider = hre.ethers.provider;
  const address = await registry.getAddress();
  {
    const publisher = await ScriptedPublisher.create(registry.connect(publisherKey), 32);
    const hasher = await Hasher.create();
    // the fixtures' issuer and operator are the dev accounts 2 and 3
    const [issuer, operator] = [signer(hasher, devAccount(2), publisher.domain), signer(hasher, devAccount(3), publisher.domain)];

    console.log(`building a history of ${fmt(TOTAL)} events in ${fmt(BATCH)}-event batches...`);
    let issued = 0;
    let events = 0;
    let nonce = 0;
    const built = await timeAsync(async () => {
      while (events < TOTAL) {
        const size = Math.min(BATCH, TOTAL - events);
        const locks = issued >= LOCKS_PER_BATCH && size > LOCKS_PER_BATCH ? LOCKS_PER_BATCH : 0;
        const fresh: StatusEvent[] = Array.from({ length: size - locks }, (_, k) =>
          ev.issue(`holder ${issued + k}`, `device ${issued + k}`),
        );
        const submissions = [];
        for (let at = 0; at < fresh.length; at += SUBMISSION) submissions.push(issuer(h(`n ${nonce++}`), fresh.slice(at, at + SUBMISSION)));
        // the operators lock phones issued in the previous batch
        if (locks)
          submissions.push(
            operator(
              h(`n ${nonce++}`),
              Array.from({ length: locks }, (_, k) => ev.lock(`device ${issued - 1 - k}`)),
            ),
          );
        const intakeBlock = await provider.getBlockNumber();
        await publisher.anchor(
          submissions.map((submission) => ({ ...submission, intakeBlock })),
          {},
          { gasLimit: 50_000_000 },
        );
        issued += fresh.length;
        events += size;
        process.stderr.write(`\r  batch ${publisher.batch}: ${fmt(events)} events`);
      }
    });
    process.stderr.write("\n");
    console.log(`history: ${publisher.batch} batches, ${fmt(events)} events, built in ${built.seconds.toFixed(1)} s\n`);

    const audit = await timeAsync(() => runAudit(provider, address));
    if (!audit.value.ok) throw new Error(`the audit failed: ${audit.value.divergence?.message}`);

    // the same replay on history already fetched: what the auditor's CPU costs without the node
    const follower = await ChainFollower.open(provider, address);
    const head = await provider.getBlockNumber();
    const fetched = await timeAsync(async () => {
      const anchors = [];
      for await (const anchor of follower.history.anchors(0, head)) anchors.push(anchor);
      return anchors;
    });
    const replayer = Replayer.create(hasher, 32, publisher.domain, () => ALL_ROLES);
    const replay = time(() => fetched.value.forEach((anchor) => replayer.apply(anchor)));

    console.log("| audit of a history | events | seconds | events/s |");
    console.log("|---|---:|---:|---:|");
    console.log(
      `| whole audit (logs, calldata, roles, replay) | ${fmt(audit.value.events)} | ${audit.seconds.toFixed(1)} | ${fmt(audit.value.events / audit.seconds)} |`,
    );
    console.log(`| of which reading ${publisher.batch} anchor transactions | | ${fetched.seconds.toFixed(1)} | |`);
    console.log(
      `| replay alone (signatures, state machine, event and status trees) | ${fmt(replayer.events)} | ${replay.seconds.toFixed(1)} | ${fmt(replayer.events / replay.seconds)} |`,
    );
  }
}

main().catch((error) => {
  console.error(`bench:audit failed: ${(error as Error).message.slice(0, 300)}`);
  process.exit(1);
});
