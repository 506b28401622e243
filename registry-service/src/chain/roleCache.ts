import type { StatusRegistry } from "../../../typechain-types";
import type { Hex } from "../core";

export interface Roles {
  issuer: boolean;
  operator: boolean;
}

/**
 * Which keys hold ISSUER_ROLE and OPERATOR_ROLE, read from the chain and cached. The cache is
 * dropped whenever a RoleGranted or RoleRevoked log appears (polled by refresh()), so a revoked
 * key stops being accepted within one poll interval, and a stale cache can never grant a role the
 * chain never gave.
 */
export class RoleCache {
  private readonly cache = new Map<string, Promise<Roles>>();
  private roleIds?: Promise<{ issuer: string; operator: string }>;
  private lastBlock = -1;

  constructor(private readonly registry: StatusRegistry) {}

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
    const head = await this.registry.runner!.provider!.getBlockNumber();
    if (this.lastBlock >= 0 && head > this.lastBlock) {
      const [granted, revoked] = await Promise.all([
        this.registry.queryFilter(this.registry.filters.RoleGranted(), this.lastBlock + 1, head),
        this.registry.queryFilter(this.registry.filters.RoleRevoked(), this.lastBlock + 1, head),
      ]);
      if (granted.length + revoked.length > 0) this.cache.clear();
    }
    this.lastBlock = head;
  }

  private async load(account: string): Promise<Roles> {
    this.roleIds ??= Promise.all([this.registry.ISSUER_ROLE(), this.registry.OPERATOR_ROLE()]).then(([issuer, operator]) => ({
      issuer,
      operator,
    }));
    const ids = await this.roleIds;
    const [issuer, operator] = await Promise.all([
      this.registry.hasRole(ids.issuer, account),
      this.registry.hasRole(ids.operator, account),
    ]);
    return { issuer, operator };
  }
}
