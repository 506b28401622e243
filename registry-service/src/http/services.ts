import type { Hasher, Hex, RegistryDomain, RoleCheck } from "../core";
import type { AnchoredView } from "../anchoring";
import type { Intake } from "../intake";
import type { Journal } from "../journal";
import type { AnchorFacts } from "../chain/read";
import type { ListPublisher } from "../readApi";
import type { LockRate } from "./lockRate";
import type { Metrics } from "./metrics";

/** What the routes use; the process (service/server.ts) or a test builds them. */
export interface Services {
  intake: Intake;
  view: AnchoredView;
  journal: Journal;
  hasher: Hasher;
  /** the signer's roles at the latest block read (chain/read's RoleFollower) */
  roles: { rolesNow(account: Hex, lastKnown?: boolean): RoleCheck };
  domain: RegistryDomain;
  metrics: Metrics;
  /** locks per operator per minute: over it, 429 and an alarm */
  lockRate: LockRate;
  limits: {
    bodyLimitBytes: number;
    verifierRequestsPerMinute: number;
    /** submissions per client (address) per minute, before any work */
    clientSubmissionsPerMinute: number;
    /** submissions per signer per minute, once the signer is known */
    signerSubmissionsPerMinute: number;
  };
  /** the chain as the console shows it: the node URL browsers are told to ask, and the anchors' gas and time */
  chain: { rpcUrl: string; facts: AnchorFacts };
  /** the standard status lists, when a list-signing key is configured */
  lists?: ListPublisher;
  /** readiness: the chain answered recently */
  ready(): boolean;
}
