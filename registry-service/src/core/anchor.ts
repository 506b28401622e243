import type { Hex } from "./bytes";

/**
 * What one anchor transaction carries: the arguments of StatusRegistry.anchor (docs/spec.md 5).
 * The journal records it before sending, the anchor client sends it, the auditor reads it back.
 */
export interface AnchorPayload {
  batch: number;
  previousRoot: Hex;
  statusRoot: Hex;
  eventRoot: Hex;
  eventCount: number;
  /** the batch's signed submissions, docs/spec.md 5.1 */
  eventData: Hex;
  /**
   * Present on a correction (docs/spec.md 5.5): sent as anchorCorrection; `previousRoot` is then the
   * struck root at `through`, and `statusRoot` the state after `base` with this batch applied.
   */
  correction?: { base: number; through: number };
}

/**
 * How many blocks a submission's anchor may come after its intake block (docs/spec.md 5.2): 12 hours
 * of 1-second blocks. A revoked key's submission can be anchored at most this long after the last
 * block at which it held its role; the audit reports a later anchor as INTAKE_BLOCK_OUT_OF_RANGE.
 */
export const MAX_INTAKE_AGE_BLOCKS = 43_200;
