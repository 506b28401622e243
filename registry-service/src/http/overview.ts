import type { Hex } from "../core";
import type { BatchRecord } from "../journal";
import type { BatchFacts, OverviewSource } from "../readApi";
import type { Services } from "./services";

/** Recent batches the overview lists. */
const RECENT = 10;

/** The service's overview: its anchored view, its journal's latest batches, its backlog and intake. */
export function serviceOverview(services: Services): OverviewSource {
  const { view, journal, intake, metrics, domain } = services;
  return {
    server: "service",
    chainId: Number(domain.chainId),
    registry: domain.verifyingContract as Hex,
    facts: (transactionHash, blockNumber) => services.chain.facts.of(transactionHash, blockNumber),
    async parts() {
      const recent: BatchFacts[] = [];
      for await (const record of journal.batches({ limit: RECENT })) recent.push(batchFacts(record));
      const accepted = (await metrics.eventsAccepted.get()).values[0]?.value ?? 0;
      return { latest: view.anchor && batchFacts(view.anchor), recent, waiting: intake.backlog, totalEvents: accepted };
    },
  };
}

function batchFacts(record: BatchRecord): BatchFacts {
  const { batch, state, eventCount, statusRoot } = record;
  return { batch, state, eventCount, statusRoot, transactionHash: record.transactionHash ?? null, blockNumber: record.blockNumber ?? null };
}
