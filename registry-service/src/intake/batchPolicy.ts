import { BATCH_HEADER_LENGTH, blankEvent, encodedEventLength, EventKind, SUBMISSION_HEADER_LENGTH, submissionLength } from "../core";
import { IntakeError } from "./errors";

/**
 * When a batch is cut and when intake pushes back, in one place (as Tessera's WithBatching and
 * WithPushback): a batch closes when the next submission would take it past `maxEvents` applied
 * events or `maxBytes` of anchor calldata; one that is not full is cut at the batcher's next run,
 * at most `maxAgeMs` after the previous one;
 * past `maxBacklog` accepted, unanchored submissions or `maxBacklogEvents` of their events, intake
 * refuses with QUEUE_FULL (503 with Retry-After over HTTP) instead of queueing without bound. The
 * bound in events is what keeps anchoring up with a sustained bulk load: intake and anchoring share
 * one event loop, and an intake that always has work takes most of it (docs/performance.md,
 * "National scale, measured at 52M").
 *
 * The priority lane: a submission that only suspends, locks or revokes is not refused for
 * backlog (up to twice the bound) and joins the earliest batch not yet cut that has room (after the batches its records
 * last changed in), not the end of the queue; every batch keeps the fraction `priorityReserve` of its
 * events and bytes for such submissions only.
 */
export interface BatchPolicy {
  maxEvents: number;
  /** anchor calldata bytes; keep under ~400 kB on chains with Prague/Osaka rules (docs/gas.md) */
  maxBytes: number;
  /** how often a batch that is not full is cut: about the longest a lost-phone lock waits before its anchor is sent */
  maxAgeMs: number;
  maxBacklog: number;
  /** accepted, unanchored events: about how long the last acknowledged issuance waits for its anchor, times the anchoring rate */
  maxBacklogEvents: number;
  priorityReserve: number;
  /**
   * The window a signed deadline must fall in, from now: far enough ahead that the service can
   * anchor the submission in time, near enough that a signed request cannot be replayed for long.
   */
  minDeadlineSeconds: number;
  maxDeadlineSeconds: number;
}

export const DEFAULT_BATCH_POLICY: BatchPolicy = {
  maxEvents: 10_000,
  maxBytes: 350_000,
  maxAgeMs: 1000,
  maxBacklog: 100_000,
  maxBacklogEvents: 500_000,
  priorityReserve: 0.1,
  minDeadlineSeconds: 300,
  maxDeadlineSeconds: 7 * 86_400,
};

/** What a refused submitter is told to wait before retrying. */
const PUSHBACK_RETRY_SECONDS = 5;

/** What the open batch holds so far. */
export interface OpenBatch {
  events: number;
  bytes: number;
}

/** How much of one batch a submission of the given lane may fill: all of it for the priority lane, less the reserve for the others. */
export function laneRoom(policy: BatchPolicy, priority: boolean): OpenBatch {
  const room = { events: policy.maxEvents, bytes: policy.maxBytes - BATCH_HEADER_LENGTH };
  const share = 1 - policy.priorityReserve;
  return priority ? room : { events: Math.floor(room.events * share), bytes: Math.floor(room.bytes * share) };
}

/** Refuses a submission no batch could carry (it could never be anchored): the submitter must split it. */
export function checkFitsOneBatch(policy: BatchPolicy, eventCount: number, bytes: number, priority: boolean): void {
  const room = laneRoom(policy, priority);
  if (bytes <= room.bytes && eventCount <= room.events) return;
  const issuances = Math.floor((room.bytes - SUBMISSION_HEADER_LENGTH) / encodedEventLength(EventKind.Issue));
  throw new IntakeError(
    "SUBMISSION_TOO_LARGE",
    `the submission's ${eventCount} events take ${bytes} bytes of anchor calldata; one batch carries at most ${room.events} events in ${room.bytes} bytes (about ${issuances} issuances): split it`,
  );
}

/** True when a submission applying `events` events in `bytes` bytes does not fit into a batch that holds `open`. */
export function overflows(policy: BatchPolicy, open: OpenBatch, events: number, bytes: number, priority: boolean): boolean {
  const room = laneRoom(policy, priority);
  return open.events + events > room.events || open.bytes + bytes > room.bytes;
}

/** Why the policy cannot work (the regular lane must take at least a re-issue: 2 events and one issuance's bytes), or undefined. */
export function policyProblem(policy: BatchPolicy): string | undefined {
  const room = laneRoom(policy, false);
  const reissue = submissionLength({ events: [blankEvent(EventKind.Reissue)] });
  if (room.events < 2 || room.bytes < reissue)
    return `a batch of ${policy.maxEvents} events and ${policy.maxBytes} bytes, less the priority lane's ${policy.priorityReserve * 100}%, leaves ${room.events} events and ${room.bytes} bytes for issuances: a re-issue needs 2 events and ${reissue} bytes`;
  return undefined;
}

/** What waits for anchoring: accepted submissions in batches not yet anchored, and their events. */
export interface Backlog {
  submissions: number;
  events: number;
}

/**
 * Pushback: refuses new work while the backlog is at either bound. The priority lane is refused
 * only at twice the bounds, which regular submissions can never fill: a flood of locks cannot grow
 * the journal without end.
 */
export function checkBacklog(policy: BatchPolicy, backlog: Backlog, priority: boolean): void {
  const factor = priority ? 2 : 1;
  if (backlog.submissions >= policy.maxBacklog * factor || backlog.events >= policy.maxBacklogEvents * factor) {
    throw new IntakeError(
      "QUEUE_FULL",
      `${backlog.submissions} submissions (${backlog.events} events) wait for anchoring; retry later`,
      PUSHBACK_RETRY_SECONDS,
    );
  }
}

/** Refuses a deadline outside the policy's window from `nowSeconds`, naming the window. */
export function checkDeadline(policy: BatchPolicy, deadline: number, nowSeconds: number): void {
  const earliest = nowSeconds + policy.minDeadlineSeconds;
  const latest = nowSeconds + policy.maxDeadlineSeconds;
  const window = `sign it again with a deadline between ${earliest} and ${latest} (unix seconds)`;
  if (deadline < earliest)
    throw new IntakeError("DEADLINE_TOO_SOON", `deadline ${deadline} leaves under ${policy.minDeadlineSeconds} s to anchor it: ${window}`);
  if (deadline > latest)
    throw new IntakeError("DEADLINE_TOO_FAR", `deadline ${deadline} is more than ${policy.maxDeadlineSeconds} s ahead: ${window}`);
}
