import { id } from "ethers";
import type { Hex } from "./bytes";
import { EventKind } from "./events";

/**
 * The roles that sign submissions, as the contract names them (AccessControl role id =
 * keccak256 of the name). One table: intake, the audit and the CLI read it from here.
 */
export const SUBMITTER_ROLES = { issuer: "ISSUER_ROLE", operator: "OPERATOR_ROLE" } as const;
export type SubmitterRole = keyof typeof SUBMITTER_ROLES;
/** Which submitter roles an account holds (at intake: now; in an audit: at the submission's intake block). */
export type Roles = Record<SubmitterRole, boolean>;

/** A signer's roles as the service checked them, with the block it checked them at: the intake block (docs/spec.md 4.2). */
export interface RoleCheck {
  roles: Roles;
  /** the roles are those after every transaction of this block */
  block: number;
}
/** Every submitter role: what a replay grants a submission it has already reported, to follow the chain past it. */
export const ALL_ROLES: Roles = { issuer: true, operator: true };
/** The role that anchors batches; the service's key must hold it. */
export const PUBLISHER_ROLE_NAME = "PUBLISHER_ROLE";
/** The role of a consortium member whose own replay attests roots (docs/spec.md 5.6). */
export const WITNESS_ROLE_NAME = "WITNESS_ROLE";

/** An AccessControl role id: keccak256 of the role's name. */
export function roleId(name: string): Hex {
  return id(name) as Hex;
}

/** Who may ask for an event: operators lock lost devices, issuers do everything else. */
export function requiredRole(kind: EventKind): SubmitterRole {
  return kind === EventKind.LockDevice ? "operator" : "issuer";
}

/** True when the account may submit at all (holds some submitter role). */
export function holdsAnySubmitterRole(roles: Roles): boolean {
  return Object.values(roles).some(Boolean);
}
