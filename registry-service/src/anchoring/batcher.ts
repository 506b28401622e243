import type { BatchPolicy } from "../intake";
import type { BatchRecord } from "../journal";
import type { Anchorer } from "./anchorer";
import { AnchorError } from "./errors";

export interface BatcherOptions extends Pick<BatchPolicy, "maxAgeMs"> {
  /** backoff ceiling while the chain is unreachable */
  maxBackoffMs: number;
  /** longest the current root goes unconfirmed while nothing is anchored: a heartbeat then (0: never) */
  heartbeatMs?: number;
}

export interface BatcherEvents {
  /** `batch` as recorded anchored: with its transaction and block */
  anchored(batch: BatchRecord, seconds: number): void;
  /** `failures` in a row so far (1 for the first of an outage) */
  failed(error: unknown, retryInMs: number, failures: number): void;
  /** anchoring works again after `failures` in a row */
  recovered(failures: number): void;
  /** the chain holds something this service did not prepare: anchoring stops */
  diverged(error: AnchorError): void;
  /** the current root was confirmed on chain while idle */
  confirmed?(receipt: { transactionHash: string; blockNumber: number }): void;
}

/**
 * Runs the anchorer every `maxAgeMs` (the batch policy's age), and at once when nudged (a batch filled up). While the chain
 * is unreachable it retries with exponential backoff; intake keeps going until its bound.
 */
export class Batcher {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private backoffMs = 0;
  private failures = 0;
  private stopped = true;
  /** when the current root was last confirmed by this process (an anchor or a heartbeat; 0: not yet) */
  private confirmedAt = 0;

  constructor(
    private readonly anchorer: Anchorer,
    private readonly options: BatcherOptions,
    private readonly events: BatcherEvents,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Run as soon as possible (e.g. a batch is full). */
  nudge(): void {
    if (!this.stopped && !this.running) this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Idle for the heartbeat interval (or since start): confirm the current root, so that verifiers see it is still current. */
  private async heartbeatIfDue(): Promise<void> {
    const every = this.options.heartbeatMs ?? 0;
    if (every <= 0 || Date.now() - this.confirmedAt < every || this.stopped) return;
    const receipt = await this.anchorer.heartbeat();
    this.confirmedAt = Date.now();
    this.events.confirmed?.(receipt);
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => (this.running = this.tick().finally(() => (this.running = undefined))), delayMs);
  }

  private async tick(): Promise<void> {
    try {
      for (;;) {
        const started = process.hrtime.bigint();
        const settled = await this.anchorer.step();
        if (!settled) break;
        this.confirmedAt = Date.now();
        this.events.anchored(settled, Number(process.hrtime.bigint() - started) / 1e9);
        if (this.stopped) return;
      }
      await this.heartbeatIfDue();
      this.backoffMs = 0;
      if (this.failures > 0) this.events.recovered(this.failures);
      this.failures = 0;
      if (!this.stopped) this.schedule(this.options.maxAgeMs);
    } catch (error) {
      if (error instanceof AnchorError) {
        this.stopped = true;
        this.events.diverged(error);
        return;
      }
      this.backoffMs = Math.min(this.options.maxBackoffMs, Math.max(this.options.maxAgeMs, this.backoffMs * 2));
      this.events.failed(error, this.backoffMs, ++this.failures);
      if (!this.stopped) this.schedule(this.backoffMs);
    }
  }
}
