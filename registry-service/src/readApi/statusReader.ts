import { emptyRecord, type Hex, type StatusRecord, type StatusTree } from "../core";
import type { StatusAnswer } from "../wire";

/**
 * What the verifiers' read API serves from: the service's anchored view or a mirror's replay of
 * the chain. Answers must be consistent: record, proof and root of one batch.
 */
export interface StatusReader {
  readonly depth: number;
  statusOf(index: number): Promise<StatusAnswer>;
}

/** Where the root of an answer was anchored (nothing yet: batch 0, the empty tree). */
export interface AnchorReference {
  batch: number;
  transactionHash?: Hex;
  blockNumber?: number;
}

/** The answer for `index` under `tree`'s root, which must be the root of the anchored batch `anchor` describes. */
export function statusAnswer(
  tree: StatusTree,
  index: number,
  record: StatusRecord | undefined,
  anchor: AnchorReference | undefined,
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

/** A consistent anchored state: a tree, the records under its root, and where that root was anchored. */
export interface AnchoredState {
  readonly tree: StatusTree;
  readonly anchor: AnchorReference | undefined;
  record(index: number): StatusRecord | undefined;
}

export interface AnchoredReaderOptions {
  /** a change accepted but not yet anchored (the service's intake; a mirror has none) */
  pending?: (index: number) => StatusRecord | undefined;
  /** throws when the state must not be served (a mirror whose replay diverged) */
  guard?: () => void;
}

/**
 * The read API over an anchored state: the service's anchored view and a mirror's replay both
 * answer through it. One synchronous read, so nothing can land between record, proof and root.
 */
export function anchoredStatusReader(view: AnchoredState, options: AnchoredReaderOptions = {}): StatusReader {
  return {
    depth: view.tree.depth,
    async statusOf(index) {
      options.guard?.();
      const anchor = view.anchor;
      const current = options.pending?.(index);
      const pending = current && current.batch > (anchor?.batch ?? 0) ? current : null;
      return statusAnswer(view.tree, index, view.record(index), anchor, pending);
    },
  };
}
