import { Contract, type Provider } from "ethers";
import { LRUCache } from "lru-cache";
import { SUBMITTER_ROLES, type Hex, type Roles, type SubmitterRole } from "../../core";
import { ChainError } from "./errors";
import { REGISTRY_ABI, SUBMITTER_ROLE_IDS } from "./registryAbi";

/** Signers whose roles are kept; the consortium's issuers and operators are far fewer. */
const ROLE_CACHE_SIGNERS = 10_000;

/**
 * Which submitter roles each key holds, read from the chain and cached. The cache is dropped
 * whenever a RoleGranted or RoleRevoked log appears (polled by refresh()), so a revoked key stops
 * being accepted within one poll interval, and a stale cache can never grant a role the chain
 * never gave.
 */
export class RoleCache {
  /** bounded: every unknown signer a stranger makes up would otherwise stay for good */
  private readonly cache: LRUCache<string, Promise<Roles>>;
  /** how long a role lookup may take before the submission is refused as CHAIN_UNREACHABLE */
  private readonly timeoutMs: number;
  private readonly registry: Contract;
  private lastBlock = -1;

  constructor(
    private readonly provider: Provider,
    registryAddress: string,
    options: { timeoutMs?: number; maxSigners?: number } = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 3000;
    this.cache = new LRUCache({ max: options.maxSigners ?? ROLE_CACHE_SIGNERS });
    this.registry = new Contract(registryAddress, REGISTRY_ABI, provider);
  }

  rolesOf(account: Hex): Promise<Roles> {
    const key = account.toLowerCase();
    let roles = this.cache.get(key);
    if (!roles) {
      roles = this.load(key);
      this.cache.set(key, roles);
      roles.catch(() => this.cache.delete(key)); // an unreachable chain is not remembered
    }
    return roles;
  }

  /** Drops the cache if any role changed since the last call. */
  async refresh(): Promise<void> {
    const head = await this.provider.getBlockNumber();
    if (this.lastBlock >= 0 && head > this.lastBlock) {
      const [granted, revoked] = await Promise.all([
        this.registry.queryFilter(this.registry.filters.RoleGranted(), this.lastBlock + 1, head),
        this.registry.queryFilter(this.registry.filters.RoleRevoked(), this.lastBlock + 1, head),
      ]);
      if (granted.length + revoked.length > 0) this.cache.clear();
    }
    this.lastBlock = head;
  }

  /** Throws ChainError (CHAIN_UNREACHABLE) when the chain cannot be asked: a submission is then refused, never let through. */
  private async load(account: string): Promise<Roles> {
    const roles = Object.keys(SUBMITTER_ROLES) as SubmitterRole[];
    const asked = roles.map((role) => this.registry.hasRole(SUBMITTER_ROLE_IDS[role], account) as Promise<boolean>);
    const held = await withTimeout(Promise.all(asked), this.timeoutMs).catch((error: Error) => {
      throw new ChainError("CHAIN_UNREACHABLE", `cannot read the roles of ${account}: ${error.message.split("\n")[0]}`);
    });
    return Object.fromEntries(roles.map((role, i) => [role, held[i]])) as Roles;
  }
}

/** `promise`, or a rejection once `ms` have passed (a frozen node must not hold a submission forever). */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)));
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}
