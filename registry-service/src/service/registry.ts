import type { BulkNodeHasher, Hasher } from "../core";
import { AnchoredView, Anchorer, rebaseOnCorrection, type Rebase, type TreeSnapshot } from "../anchoring";
import type { AnchorChain } from "../chain/write";
import { Intake, type BatchPolicy, type StateOrigin } from "../intake";
import type { Journal } from "../journal";

export interface RegistryParts {
  journal: Journal;
  intake: Intake;
  view: AnchoredView;
  anchorer: Anchorer;
  /** where intake's state came from: the state checkpoint, or a scan of the journal (and why) */
  origin: StateOrigin;
  /** set when this open re-based the journal on the admin's approved correction */
  rebased?: Rebase;
}

/**
 * The write path over one journal: intake and the anchored view (restored from the state
 * checkpoint when it is current, else rebuilt by one journal scan), and the anchorer between them.
 * The process (server.ts) and the tests assemble the service this way.
 * An approved correction on the chain is applied to the journal first (anchoring/correction.ts).
 * Takes the journal over: it is closed if opening fails.
 */
export async function openRegistry(options: {
  journal: Journal;
  policy: BatchPolicy;
  hasher: Hasher;
  depth: number;
  chain: AnchorChain;
  bulk?: BulkNodeHasher;
  snapshot?: TreeSnapshot;
  /** the state checkpoint's file (intake/stateCheckpoint.ts): restored from if current, deleted either way */
  checkpoint?: string;
  /** anchors sent and not yet settled at once (default 1) */
  maxInFlight?: number;
}): Promise<RegistryParts> {
  const { journal, hasher } = options;
  try {
    const rebased = await rebaseOnCorrection(journal, options.chain);
    const { intake, anchored, origin } = await Intake.open(journal, options.policy, 2 ** options.depth, Date.now, options.checkpoint);
    const view = await AnchoredView.open({ ...options, records: anchored.records });
    const anchorer = new Anchorer(journal, intake, view, hasher, options.chain, { maxInFlight: options.maxInFlight ?? 1 });
    return { journal, intake, view, anchorer, origin, ...(rebased && { rebased }) };
  } catch (error) {
    await journal.close(); // an unreadable journal or a diverged root: release the data directory
    throw error;
  }
}
