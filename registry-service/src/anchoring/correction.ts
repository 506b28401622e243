import { ZERO32 } from "../core";
import type { AnchorChain } from "../chain/write";
import { aboveAnchored, restampJournalEntry, type BatchRecord, type Journal, type StoredEntry } from "../journal";
import { AnchorError } from "./errors";

/** What re-basing on a correction did (the service logs it at start). */
export interface Rebase {
  /** the service's latest anchored batch, which the correction re-bases on */
  base: number;
  /** the last struck batch: the correction is anchored as the next one */
  through: number;
  /** accepted entries moved to the batch numbers after `through` */
  moved: number;
}

/** The batch number this journal's unanchored work starts after: its own anchored batch, or the end of a re-base (records above `own`, newest first). */
function pendingFloor(above: readonly BatchRecord[], own: number): number {
  for (const record of above) {
    if (record.state === "struck") return record.batch;
    if (record.state === "prepared" && record.correction) return record.correction.through;
  }
  return own;
}

/**
 * Re-bases the journal on the admin's approved correction (docs/spec.md 5.5, docs/runbook.md):
 * the chain holds batches base+1..through that this service did not make, and the admin approved
 * striking them. This service's accepted, unanchored work moves to the batch numbers after
 * `through` (its records carry their batch number), the batch the chain refused is dropped, and a
 * struck record marks `through`: the next batch cut is the correction, anchored on the struck root.
 * Idempotent: undefined when there is no approval or it is applied already. Throws AnchorError
 * CORRECTION_REFUSED when the approval does not fit this journal (nothing is changed then).
 */
export async function rebaseOnCorrection(journal: Journal, chain: AnchorChain): Promise<Rebase | undefined> {
  const approval = await chain.approvedCorrection();
  if (!approval) return undefined;
  const { anchored, above } = await aboveAnchored(journal);
  const own = anchored?.batch ?? 0;
  const floor = pendingFloor(above, own);
  if (approval.through <= floor) return undefined;
  await checkApproval(journal, chain, approval, { own, above });
  const delta = approval.through - floor;
  const entries: StoredEntry[] = [];
  for await (const { seq, bytes } of journal.entries()) {
    const moved = restampJournalEntry(seq, bytes, { after: own, delta });
    if (moved) entries.push({ seq, bytes: moved });
  }
  const struck: BatchRecord = {
    batch: approval.through,
    state: "struck",
    previousRoot: await chain.batchRoot(approval.base),
    statusRoot: await chain.batchRoot(approval.through),
    eventRoot: ZERO32,
    eventCount: 0,
    eventData: "0x",
    eventDataHash: ZERO32,
    lastSeq: -1,
    correction: approval,
  };
  await journal.rebase({ entries, after: own, struck });
  return { base: approval.base, through: approval.through, moved: entries.length };
}

/** The approval must re-base on this service's latest anchored batch, as the chain holds it, and still be current. */
async function checkApproval(
  journal: Journal,
  chain: AnchorChain,
  approval: { base: number; through: number },
  { own, above }: { own: number; above: readonly BatchRecord[] },
) {
  const refuse = (why: string) => {
    throw new AnchorError(
      "CORRECTION_REFUSED",
      `the admin's approved correction (re-base on batch ${approval.base}, strike through ${approval.through}) ${why}`,
    );
  };
  if (approval.base !== own) refuse(`does not re-base on this service's latest anchored batch, ${own}: approve one on batch ${own}`);
  const ownRecord = await journal.batch(own);
  if (ownRecord && (await chain.batchRoot(own)) !== ownRecord.statusRoot)
    refuse(`re-bases on batch ${own}, which the chain holds with another root than this service anchored`);
  for (const record of above) {
    if (record.state === "prepared" && record.batch <= approval.through && (await chain.batchRoot(record.batch)) === record.statusRoot)
      refuse(`strikes batch ${record.batch}, which this service anchored: approve one on batch ${record.batch}`);
  }
  const onChain = await chain.latestBatch();
  if (onChain.batch !== approval.through) refuse(`is outdated: the chain is at batch ${onChain.batch} since; the admin must approve again`);
}
