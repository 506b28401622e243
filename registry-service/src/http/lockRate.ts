import { EventKind, type Hex, type StatusEvent } from "../core";
import { ApiError } from "../readApi";

/** What the limiter reports when an operator goes over its lock rate: the service logs and counts it (an alarm). */
export type LockAlarm = (operator: Hex, locks: number, perMinute: number) => void;

/**
 * Locks per operator per minute (docs/spec.md 4.6): a grant lets an operator lock only its own
 * subscribers' phones, and this bounds how many it can lock at once, a compromised operator key
 * included. Fixed one-minute windows, counted in lock events (one request may carry thousands).
 * Over the limit: 429 RATE_LIMITED, and the alarm once per operator and window.
 */
export class LockRate {
  private readonly windows = new Map<string, { start: number; locks: number; alarmed: boolean }>();

  constructor(
    private readonly perMinute: number,
    private readonly alarm: LockAlarm,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts the submission's locks against its operator's window; throws RATE_LIMITED (nothing counted) when they do not fit. */
  count(operator: Hex, events: readonly Pick<StatusEvent, "kind">[]): void {
    const locks = events.reduce((n, event) => n + (event.kind === EventKind.LockDevice ? 1 : 0), 0);
    if (locks === 0) return;
    const now = this.now();
    const key = operator.toLowerCase();
    let window = this.windows.get(key);
    if (!window || now - window.start >= 60_000) this.windows.set(key, (window = { start: now, locks: 0, alarmed: false }));
    if (window.locks + locks > this.perMinute) {
      if (!window.alarmed) this.alarm(operator, window.locks + locks, this.perMinute);
      window.alarmed = true;
      const retry = Math.max(1, Math.ceil((window.start + 60_000 - now) / 1000));
      throw new ApiError(
        "RATE_LIMITED",
        429,
        `${operator} asked for more than ${this.perMinute} locks this minute; retry in ${retry} s`,
        retry,
      );
    }
    window.locks += locks;
  }
}
