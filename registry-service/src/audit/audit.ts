import type { Provider } from "ethers";
import type { JWK } from "jose";
import { ChainFollower, type FollowProgress, type RecognisedCorrection } from "./follower";
import { checkList, fetchLists, unknownAnchor, type FetchedList } from "./listAudit";
import type { Divergence, DivergenceCode } from "./replay";
import { checkAttestations, watchReproduced, type WitnessSummary } from "./witnessAudit";

export interface AuditReport {
  ok: boolean;
  registry: string;
  chainId: string;
  /** the last block read */
  headBlock: number;
  /** batches and events replayed (up to the head, or to where the replay stopped) */
  batches: number;
  events: number;
  /** the replayed status root after the last clean batch */
  statusRoot: string;
  /** every finding, in chain order; the last one stopped the replay if the state could not follow the chain past it */
  findings: ReturnType<Divergence["toJSON"]>[];
  /** how many findings of each code */
  counts: Partial<Record<DivergenceCode, number>>;
  /** the batch at which the replay stopped because its state could not follow the chain (null: it read to the head) */
  stoppedAt: number | null;
  /** the witnesses' attestations read from the chain (a wrong one is a WITNESS_MISATTESTED finding) */
  witnesses: WitnessSummary;
  /** the published lists checked (--lists): how many were read, in every form */
  lists: { url: string; checked: number } | null;
  /** the first finding (null: none) */
  divergence: ReturnType<Divergence["toJSON"]> | null;
  /**
   * the admin's corrections (docs/spec.md 5.5), each with the findings of the batches it struck:
   * those are not in `findings`, the corrected history is what the registry stands on
   */
  corrections: RecognisedCorrection[];
  seconds: number;
}

/** The auditor's replay of a registry's whole history, from the chain alone. */
export async function runAudit(
  provider: Provider,
  registry: string,
  options: {
    fromBlock?: number;
    blockSpan?: number;
    failFast?: boolean;
    onProgress?: (progress: FollowProgress) => void;
    /** also hold the lists published at this base URL against the replay (signatures against `key` when given) */
    lists?: { url: string; key?: JWK };
  } = {},
): Promise<AuditReport> {
  const started = performance.now();
  // every finding the replay can establish, unless asked to stop at the first
  const follower = await ChainFollower.open(provider, registry, { ...options, keepGoing: !options.failFast });
  const lists = options.lists ? await listAudit(follower, options.lists) : noLists;
  const reproduced = watchReproduced(follower);
  const stopped = await follower.replayToHead(options.onProgress);
  const { replayer } = follower;
  const witnesses = await checkAttestations(follower, reproduced);
  const findings = [...replayer.findings, ...(stopped ? [stopped] : []), ...lists.findings(replayer.batch), ...witnesses.findings].map(
    (finding) => finding.toJSON(),
  );
  return {
    ok: findings.length === 0,
    registry,
    chainId: follower.chainId.toString(),
    headBlock: follower.head,
    batches: replayer.batch,
    events: replayer.events,
    statusRoot: follower.root,
    findings,
    counts: countsOf(findings),
    stoppedAt: stopped ? stopped.batch : null,
    witnesses: witnesses.summary,
    lists: lists.summary,
    divergence: findings.length > 0 ? findings[0] : null,
    corrections: follower.corrections,
    seconds: (performance.now() - started) / 1000,
  };
}

function countsOf(findings: AuditReport["findings"]): AuditReport["counts"] {
  const counts: AuditReport["counts"] = {};
  for (const { code } of findings) counts[code] = (counts[code] ?? 0) + 1;
  return counts;
}

const noLists = { summary: null, findings: (): Divergence[] => [] };

/** The published lists, fetched before the replay and checked during it; `findings` once it has run to `replayed`. */
async function listAudit(follower: ChainFollower, options: { url: string; key?: JWK }) {
  const published = await fetchLists(options.url, options.key);
  const found = watchLists(follower, published.lists, published.findings);
  return {
    summary: { url: options.url, checked: published.lists.length },
    findings: (replayed: number) => [...found, ...listsBeyond(published.lists, replayed)],
  };
}

/**
 * Checks each fetched list when the replay reaches the batch it names (the state is exactly that
 * batch's then); lists of batch 0 against the empty registry at once. Returns the findings array it fills.
 */
function watchLists(follower: ChainFollower, lists: FetchedList[], findings: Divergence[]): Divergence[] {
  const { replayer } = follower;
  const checkAt = (batch: number) => {
    const at = {
      batch,
      statusRoot: replayer.tree.root,
      transactionHash: replayer.anchor?.transactionHash ?? null,
      status: (index: number) => replayer.status(index),
    };
    for (const list of lists) if (list.anchor.batch === batch) findings.push(...checkList(list, at));
  };
  checkAt(0);
  replayer.onAdvance(() => checkAt(replayer.batch));
  return findings;
}

/** Lists naming a batch the replay never reached: an anchor the chain does not hold (or not yet, at the head read). */
function listsBeyond(lists: FetchedList[], replayed: number): Divergence[] {
  return lists.filter((list) => !(list.anchor?.batch <= replayed)).map((list) => unknownAnchor(list, replayed));
}
