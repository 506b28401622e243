import { getAddress, type EventLog } from "ethers";
import type { Hex } from "../core";
import type { ChainFollower } from "./follower";
import { Divergence, type Replayer } from "./replay";

/** What the audit says of the witnesses (docs/spec.md 5.6): how many attestations it read, and by whom. */
export interface WitnessSummary {
  attestations: number;
  /** attestations per witness address */
  byWitness: Record<string, number>;
}

/**
 * Tells, as the replay advances, each batch it reproduced with no finding in the batch (`clean`, with
 * its root: what an honest witness attests) and each it did not (`flawed`). The witness and the
 * audit's check of the witnesses share this one rule.
 */
export function onBatchReplayed(
  replayer: Replayer,
  clean: (batch: number, root: Hex) => void,
  flawed: (batch: number) => void = () => undefined,
) {
  replayer.onAdvance(() => {
    const { batch } = replayer;
    if (replayer.findings.some((finding) => finding.batch === batch)) flawed(batch);
    else clean(batch, replayer.tree.root as Hex);
  });
}

/** Each batch's root as the replay reproduced it cleanly; call before the replay runs, the map fills as it goes. */
export function watchReproduced(follower: ChainFollower): Map<number, string> {
  const { replayer } = follower;
  const reproduced = new Map<number, string>([[replayer.batch, replayer.tree.root]]);
  onBatchReplayed(replayer, (batch, root) => reproduced.set(batch, root));
  return reproduced;
}

/**
 * Every attestation on chain up to the block the replay read to, held against the roots the replay
 * reproduced: a witness that attested any other root (a rogue anchor's, a batch with findings) is
 * named, attestation by attestation. Honest witnesses are outvoted only when k of them lie.
 */
export async function checkAttestations(
  follower: ChainFollower,
  reproduced: Map<number, string>,
): Promise<{ summary: WitnessSummary; findings: Divergence[] }> {
  const logs: EventLog[] = await follower.history.logs("RootAttested", 0, follower.head);
  const byWitness: Record<string, number> = {};
  const findings: Divergence[] = [];
  for (const log of logs) {
    const [batch, statusRoot, witness] = [Number(log.args.batch), log.args.statusRoot as Hex, getAddress(log.args.witness) as Hex];
    byWitness[witness] = (byWitness[witness] ?? 0) + 1;
    const expected = reproduced.get(batch);
    if (expected === statusRoot) continue;
    const why = expected === undefined ? "which the replay did not reproduce cleanly" : `where the replay reproduced ${expected}`;
    const message = `witness ${witness} attested root ${statusRoot} as batch ${batch}, ${why}`;
    findings.push(
      new Divergence("WITNESS_MISATTESTED", batch, log.transactionHash as Hex, message, { expected, computed: statusRoot, witness }),
    );
  }
  return { summary: { attestations: logs.length, byWitness }, findings };
}
