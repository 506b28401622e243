import type { Hasher, Hex, RegistryDomain, Roles } from "../core";
import type { AnchoredView } from "../anchoring";
import type { Intake } from "../intake";
import type { Journal } from "../journal";
import type { Metrics } from "./metrics";

/** What the routes use; the process (service/server.ts) or a test builds them. */
export interface Services {
  intake: Intake;
  view: AnchoredView;
  journal: Journal;
  hasher: Hasher;
  roles: { rolesOf(account: Hex): Promise<Roles> };
  domain: RegistryDomain;
  metrics: Metrics;
  limits: {
    bodyLimitBytes: number;
    verifierRequestsPerMinute: number;
    /** submissions per client (address) per minute, before any work */
    clientSubmissionsPerMinute: number;
    /** submissions per signer per minute, once the signer is known */
    signerSubmissionsPerMinute: number;
  };
  /** readiness: the chain answered recently */
  ready(): boolean;
}
