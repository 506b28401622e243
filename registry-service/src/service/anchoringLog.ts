import type { BatcherEvents } from "../anchoring";
import { ChainError } from "../chain/read";
import type { Metrics } from "../http/metrics";
import type { Logger } from "./logger";

/** Error codes of a node that does not answer (down, frozen, unreachable): an outage that ends on its own. */
const NODE_SILENT = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENOTFOUND",
  "TIMEOUT",
  "NETWORK_ERROR",
  "SERVER_ERROR",
]);

/** What the batcher reports goes to the metrics and the log (docs/runbook.md starts from these lines). */
export function batcherEvents(metrics: Metrics, log: Logger): BatcherEvents {
  return {
    anchored: (record, seconds) => {
      metrics.batchSize.observe(record.eventCount);
      metrics.anchorSeconds.observe(seconds);
      const { batch, eventCount: events, transactionHash, blockNumber } = record;
      log.info({ batch, events, transactionHash, blockNumber, ms: Math.round(seconds * 1000) }, "batch anchored");
    },
    failed: (error, retryInMs, failures) => {
      // an outage is logged as it starts and then at 2, 4, 8.. failures, not once a second; a silent
      // node is expected back (warn), anything else (a refused anchor: paused, role revoked) needs someone
      if ((failures & (failures - 1)) !== 0) return;
      log[nodeSilent(error) ? "warn" : "error"]({ err: error, failures, retryInMs }, "anchoring failed");
    },
    // at warn, so that a log read at warn shows an outage's end as well as its start
    recovered: (failures) => log.warn({ failures }, "anchoring works again"),
    confirmed: ({ transactionHash, blockNumber }) => log.debug({ transactionHash, blockNumber }, "current root confirmed (heartbeat)"),
    diverged: (error) => {
      metrics.halted.set(1);
      log.fatal({ err: error }, "ANCHORING AND INTAKE STOPPED: the chain holds an anchor this service did not make (docs/runbook.md)");
    },
  };
}

function nodeSilent(error: unknown): boolean {
  if (error instanceof ChainError) return error.code === "CHAIN_UNREACHABLE";
  return NODE_SILENT.has(String((error as { code?: unknown }).code));
}
