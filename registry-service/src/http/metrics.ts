import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Backlog } from "../intake";

/** The service's Prometheus metrics, on a registry of its own. */
export class Metrics {
  readonly registry = new Registry();
  readonly eventsAccepted = new Counter({
    name: "registry_events_accepted_total",
    help: "applied events accepted",
    registers: [this.registry],
  });
  readonly submissionsRefused = new Counter({
    name: "registry_submissions_refused_total",
    help: "refused submissions",
    labelNames: ["code"],
    registers: [this.registry],
  });
  /** where the queue depth is read at each scrape (a gauge set only on submissions goes stale as batches anchor) */
  private backlogSource?: () => Backlog;
  readonly backlog = this.backlogGauge("registry_backlog_submissions", "accepted submissions not yet anchored", "submissions");
  readonly backlogEvents = this.backlogGauge("registry_backlog_events", "events of the accepted submissions not yet anchored", "events");
  readonly lockAlarms = new Counter({
    name: "registry_operator_lock_alarms_total",
    help: "times an operator asked for more locks in a minute than OPERATOR_LOCKS_PER_MINUTE (refused with 429)",
    labelNames: ["operator"],
    registers: [this.registry],
  });
  readonly halted = new Gauge({
    name: "registry_intake_halted",
    help: "1 once the chain diverged from this service's journal: intake and anchoring stopped (docs/runbook.md)",
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: "registry_batch_events",
    help: "events per anchored batch",
    buckets: [1, 10, 100, 1000, 10_000, 100_000],
    registers: [this.registry],
  });
  readonly anchorSeconds = new Histogram({
    name: "registry_anchor_seconds",
    help: "cut to confirmed anchor",
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [this.registry],
  });
  readonly proofSeconds = new Histogram({
    name: "registry_proof_seconds",
    help: "status + proof request handling",
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  watchBacklog(read: () => Backlog): void {
    this.backlogSource = read;
  }

  private backlogGauge(name: string, help: string, part: keyof Backlog): Gauge {
    const gauge: Gauge = new Gauge({
      name,
      help,
      registers: [this.registry],
      collect: () => {
        if (this.backlogSource) gauge.set(this.backlogSource()[part]);
      },
    });
    return gauge;
  }
}
