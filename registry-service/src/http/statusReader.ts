import type { Static } from "@sinclair/typebox";
import { emptyRecord, type Hex, type StatusRecord, type StatusTree } from "../core";
import type { Anchorer } from "../batching/anchorer";
import type { RegistryStore } from "../storage/registryStore";
import type { StatusResult } from "./schemas";

/** One index's answer for verifiers: record and proof under the latest anchored root, and any pending change. */
export type StatusAnswer = Static<typeof StatusResult>;

/**
 * What the verifiers' read API serves from: the service (its store and anchored tree) or a mirror
 * (its own replay of the chain). Answers must be consistent: record, proof and root of one batch.
 */
export interface StatusReader {
  readonly depth: number;
  statusOf(index: number): Promise<StatusAnswer>;
}

/** The answer for `index` under `tree`'s root, which must be the root of the anchored batch `anchor` describes. */
export function statusAnswer(
  tree: StatusTree,
  index: number,
  record: StatusRecord | undefined,
  anchor: { batch?: number; transactionHash?: Hex; blockNumber?: number } | undefined,
  pending: StatusRecord | null,
): StatusAnswer {
  return {
    index,
    anchored: {
      record: record ?? emptyRecord(index),
      proof: tree.prove(index),
      anchor: {
        batch: anchor?.batch ?? 0,
        statusRoot: tree.root,
        transactionHash: anchor?.transactionHash ?? null,
        blockNumber: anchor?.blockNumber ?? null,
      },
    },
    pending,
  };
}

/** The service's answers: the anchored tree and records, plus the journal's pending record. */
export function anchoredStatusReader(anchorer: Anchorer, store: RegistryStore): StatusReader {
  return {
    depth: anchorer.tree.depth,
    /** One consistent read of the anchored view (in memory: nothing can land between the reads). */
    async statusOf(index): Promise<StatusAnswer> {
      const anchored = anchorer.anchored;
      const current = store.record(index);
      return statusAnswer(
        anchorer.tree,
        index,
        store.anchoredRecord(index),
        anchored,
        current && current.batch > (anchored?.batch ?? 0) ? current : null,
      );
    },
  };
}
