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
}
