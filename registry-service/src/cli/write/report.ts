import { AppliedKind, Reason, Status } from "../../core";
import type { SubmissionResult, SubmissionStatus } from "../../client/submissionClient";
import { DEFAULT_SERVICE, type Service } from "./service";

/** The spec's name of an enum member: LockDevice -> LOCK_DEVICE. */
export const specName = (name: string | undefined) => (name ?? "UNKNOWN").replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();

/** One record a submission changed, in words. */
export interface AppliedChange {
  kind: string;
  index: number;
  status: string;
  reason: string;
}

export const appliedChanges = (applied: SubmissionResult["applied"]): AppliedChange[] =>
  applied.map(({ kind, record }) => ({
    kind: specName(AppliedKind[kind]),
    index: record.index,
    status: specName(Status[record.status]),
    reason: specName(Reason[record.reason]),
  }));

export const changeText = (change: AppliedChange) =>
  `${change.kind} index ${change.index} -> ${change.status}${change.reason === "NONE" ? "" : ` (${change.reason})`}`;

/** The command that follows a submission from accepted to anchored. */
export function followCommand(service: Service, signer: string, nonce: string): string {
  const where = service.url === DEFAULT_SERVICE ? "" : ` --service ${service.url}`;
  return `mobile-id submission ${signer} ${nonce} --wait${where}`;
}

/** Where an anchored submission landed: its transaction and its events' receipts. */
export interface AnchoredAt {
  batch: number;
  transactionHash: string | null;
  blockNumber: number | null;
  receipts: string[];
}

export const anchoredAt = (status: SubmissionStatus): AnchoredAt => ({
  batch: status.batch,
  transactionHash: status.transactionHash,
  blockNumber: status.blockNumber,
  receipts: status.receipts,
});

export const anchoredText = (anchored: AnchoredAt) =>
  `anchored: batch ${anchored.batch}, transaction ${anchored.transactionHash} (block ${anchored.blockNumber}); receipts ${anchored.receipts.join(", ")}`;
