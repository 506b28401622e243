import { Interface } from "ethers";
import { roleId, SUBMITTER_ROLES, type SubmitterRole } from "../../core";

/**
 * The part of StatusRegistry's ABI that verifiers, auditors, mirrors and intake read, human-readable so the
 * SDK needs no compiled artifacts (a test holds it equal to the compiled contract's ABI).
 */
export const REGISTRY_ABI = [
  "function treeDepth() view returns (uint8)",
  "function latestBatch() view returns ((bytes32 statusRoot, uint64 batch, uint64 anchoredAt, uint64 anchoredBlock, uint64 supersededAt))",
  "function batchInfo(uint64 batch) view returns ((bytes32 statusRoot, uint64 batch, uint64 anchoredAt, uint64 anchoredBlock, uint64 supersededAt))",
  "function rootInfo(bytes32 root) view returns ((bytes32 statusRoot, uint64 batch, uint64 anchoredAt, uint64 anchoredBlock, uint64 supersededAt))",
  "function ISSUER_ROLE() view returns (bytes32)",
  "function OPERATOR_ROLE() view returns (bytes32)",
  "function PUBLISHER_ROLE() view returns (bytes32)",
  "function WITNESS_ROLE() view returns (bytes32)",
  "function hasRole(bytes32 role, address account) view returns (bool)",
  "function anchor(uint64 batch, bytes32 previousRoot, bytes32 statusRoot, bytes32 eventRoot, uint32 eventCount, bytes eventData)",
  "function anchorCorrection(uint64 batch, bytes32 previousRoot, bytes32 statusRoot, bytes32 eventRoot, uint32 eventCount, bytes eventData)",
  "function approvedCorrection() view returns (uint64 base, uint64 through)",
  "function heartbeat(uint64 batch, bytes32 statusRoot)",
  "function attest(uint64 batch, bytes32 statusRoot)",
  "function attestations(bytes32 root) view returns (uint32)",
  "function hasAttested(bytes32 root, address witness) view returns (bool)",
  "function currentRoot() view returns (bytes32 statusRoot, uint64 batch, uint64 confirmedAt, uint64 confirmedBlock, bool isPaused)",
  "event BatchAnchored(uint64 indexed batch, bytes32 indexed statusRoot, bytes32 previousRoot, bytes32 eventRoot, uint32 eventCount, bytes32 eventDataHash)",
  "event RootConfirmed(uint64 indexed batch, bytes32 statusRoot)",
  "event RootAttested(uint64 indexed batch, bytes32 indexed statusRoot, address indexed witness, uint32 attestations)",
  "event BatchCorrected(uint64 indexed batch, uint64 base, uint64 through)",
  "event CorrectionApproved(uint64 indexed base, uint64 through, address indexed admin)",
  "event RoleGranted(bytes32 indexed role, address indexed account, address indexed sender)",
  "event RoleRevoked(bytes32 indexed role, address indexed account, address indexed sender)",
  "error StatusRegistryUnknownRoot(bytes32 root)",
  "error StatusRegistryUnknownBatch(uint64 batch)",
  "error StatusRegistryUnexpectedBatch(uint64 expected, uint64 given)",
  "error StatusRegistryPreviousRootMismatch(bytes32 current, bytes32 given)",
  "error StatusRegistryRootAlreadyAnchored(bytes32 root, uint64 batch)",
  "error StatusRegistryEmptyBatch(uint32 eventCount, uint256 eventDataLength)",
  "error StatusRegistryRootStruck(bytes32 root, uint64 correctedBy)",
  "error StatusRegistryNotCurrent(uint64 latestBatch, bytes32 currentRoot)",
  "error StatusRegistryInvalidCorrection(uint64 base, uint64 latest)",
  "error StatusRegistryNoCorrectionApproved()",
  "error StatusRegistryCorrectionOutdated(uint64 approvedThrough, uint64 latest)",
  "error StatusRegistryNotAnchoredAs(uint64 batch, bytes32 anchoredRoot)",
  "error StatusRegistryAlreadyAttested(bytes32 root, address witness)",
  "error StatusRegistryRoleConflict(address account, bytes32 role, bytes32 held)",
  "error EnforcedPause()",
  "error AccessControlUnauthorizedAccount(address account, bytes32 neededRole)",
] as const;

/** What the chain remembers of an anchored root (the contract's BatchInfo, as numbers). */
export interface RootInfo {
  statusRoot: string;
  batch: number;
  /** block timestamp of the anchor, seconds */
  anchoredAt: number;
  anchoredBlock: number;
  /** timestamp at which a later batch replaced this root; 0 while it is the current root */
  supersededAt: number;
}

export function toRootInfo(info: {
  statusRoot: string;
  batch: bigint;
  anchoredAt: bigint;
  anchoredBlock: bigint;
  supersededAt: bigint;
}): RootInfo {
  return {
    statusRoot: info.statusRoot,
    batch: Number(info.batch),
    anchoredAt: Number(info.anchoredAt),
    anchoredBlock: Number(info.anchoredBlock),
    supersededAt: Number(info.supersededAt),
  };
}

export const REGISTRY_INTERFACE = new Interface(REGISTRY_ABI);

/**
 * The registry's custom error a failed call reverted with, if any. Providers put the revert data
 * in different places (ethers' CALL_EXCEPTION, Hardhat's in-process errors), so each is tried.
 */
export function revertName(error: unknown): string | undefined {
  return describedRevert(error)?.name;
}

/** The registry's custom error with its arguments, as a line a log can show ("EnforcedPause()"), if it is one. */
export function describeRevert(error: unknown): string | undefined {
  const revert = describedRevert(error);
  return revert && `${revert.name}(${revert.args.map(String).join(", ")})`;
}

/** The registry's custom error a failed call reverted with, with its arguments, if it is one. */
export function describedRevert(error: unknown): { name: string; args: readonly unknown[] } | undefined {
  for (const data of revertDataCandidates(error)) {
    if (typeof data !== "string" || data.length < 10) continue;
    try {
      const parsed = REGISTRY_INTERFACE.parseError(data);
      if (parsed) return parsed;
    } catch {
      // not one of the registry's errors
    }
  }
  return undefined;
}

function revertDataCandidates(error: unknown): unknown[] {
  const e = (error ?? {}) as { data?: unknown; error?: { data?: unknown }; info?: { error?: { data?: unknown } } };
  return [e.data, e.error?.data, e.info?.error?.data];
}

/** The submitter roles' ids, computed once. */
export const SUBMITTER_ROLE_IDS = Object.fromEntries(
  (Object.keys(SUBMITTER_ROLES) as SubmitterRole[]).map((role) => [role, roleId(SUBMITTER_ROLES[role])]),
) as Record<SubmitterRole, string>;
