import { appliedEventCount, encodedEventLength, isPriority, SUBMISSION_HEADER_LENGTH, type StatusEvent } from "../../../core";
import type { DomainAnswer } from "../../../client/submissionClient";

/** The most events one submission may carry over HTTP (the wire schema's limit). */
export const MAX_EVENTS_PER_SUBMISSION = 10_000;

/** What a submission under construction holds: its size in the two units the service limits it by, and its lane. */
interface Tally {
  events: number;
  applied: number;
  bytes: number;
  priority: boolean;
}

const add = (tally: Tally, event: StatusEvent): Tally => ({
  events: tally.events + 1,
  applied: tally.applied + appliedEventCount(event.kind),
  bytes: tally.bytes + encodedEventLength(event.kind),
  priority: tally.priority && isPriority([event]),
});

/**
 * How many of `events` (from the first) go into the next submission: as many as one anchor can
 * carry in the lane they take, at most `maxEvents`, and at least one (any single event fits a lane).
 */
export function nextChunkSize(events: readonly StatusEvent[], limits: DomainAnswer["submissionLimits"], maxEvents: number): number {
  let tally: Tally = { events: 0, applied: 0, bytes: SUBMISSION_HEADER_LENGTH, priority: true };
  let count = 0;
  for (const event of events) {
    const next = add(tally, event);
    const room = next.priority ? limits.priority : limits.regular;
    if (count > 0 && (next.events > maxEvents || next.applied > room.events || next.bytes > room.bytes)) break;
    tally = next;
    count++;
  }
  return count;
}
