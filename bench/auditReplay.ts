/**
 * The replay alone (bench/audit.ts runs it as a child process): reads every anchor of a registry
 * from the node into memory, then replays them with the audit's Replayer and the chain's role
 * timeline, timing the two apart. Prints { events, readSeconds, replaySeconds } as JSON.
 */
import { JsonRpcProvider } from "ethers";
import { Hasher } from "../registry-service/src/core";
import { ChainHistory, RoleTimeline, type AnchoredBatch } from "../registry-service/src/chain/read";
import { Replayer } from "../registry-service/src/audit/replay";

async function main() {
  const [rpc, registry] = [process.argv[process.argv.indexOf("--rpc") + 1], process.argv[process.argv.indexOf("--registry") + 1]];
  const provider = new JsonRpcProvider(rpc, undefined, { staticNetwork: true });
  const history = new ChainHistory(provider, registry);
  const head = await history.head();
  const started = performance.now();
  const anchors: AnchoredBatch[] = [];
  for await (const anchor of history.anchors(0, head)) anchors.push(anchor);
  const roles = new RoleTimeline(history);
  await roles.extend(head);
  const readSeconds = (performance.now() - started) / 1000;
  const [network, depth] = [await provider.getNetwork(), Number(await history.contract.treeDepth())];
  const domain = { chainId: network.chainId, verifyingContract: registry };
  const replayer = Replayer.create(await Hasher.create(), depth, domain, (signer, block) => roles.rolesAfter(signer, block));
  const replayStarted = performance.now();
  for (const anchor of anchors) replayer.apply(anchor);
  const replaySeconds = (performance.now() - replayStarted) / 1000;
  provider.destroy();
  console.log(JSON.stringify({ events: replayer.events, readSeconds, replaySeconds }));
}

main().catch((error) => {
  console.error(`audit replay failed: ${(error as Error).message}`);
  process.exit(1);
});
