import { SUBMITTER_ROLES, type Roles, type SubmitterRole } from "../../core";
import type { ChainHistory } from "./history";
import { SUBMITTER_ROLE_IDS } from "./registryAbi";

/** One RoleGranted (granted) or RoleRevoked log of the registry. */
export interface RoleChange {
  role: string;
  account: string;
  granted: boolean;
  block: number;
}

/** The registry's role grants and revocations between two blocks (inclusive), in chain order. */
export async function roleChanges(history: ChainHistory, fromBlock: number, toBlock: number): Promise<RoleChange[]> {
  const [granted, revoked] = await Promise.all([
    history.logs("RoleGranted", fromBlock, toBlock),
    history.logs("RoleRevoked", fromBlock, toBlock),
  ]);
  const all = [...granted.map((log) => ({ log, granted: true })), ...revoked.map((log) => ({ log, granted: false }))];
  all.sort((a, b) => a.log.blockNumber - b.log.blockNumber || a.log.index - b.log.index);
  return all.map(({ log, granted: isGrant }) => ({
    role: log.args.role,
    account: log.args.account,
    granted: isGrant,
    block: log.blockNumber,
  }));
}

/** Who held which role when, rebuilt from RoleGranted/RoleRevoked logs (no archive node needed). */
export class RoleTimeline {
  /** per (role, account): its grants and revocations in chain order */
  private readonly changes = new Map<string, { block: number; granted: boolean }[]>();
  private loadedTo: number;

  /** `fromBlock`: the registry's deployment block (no role of it changed earlier) */
  constructor(
    private readonly history: ChainHistory,
    fromBlock = 0,
  ) {
    this.loadedTo = fromBlock - 1;
  }

  /** Reads role changes up to `toBlock` (repeatable: a follower extends it as the chain grows). */
  async extend(toBlock: number): Promise<void> {
    if (toBlock <= this.loadedTo) return;
    for (const { role, account, block, granted } of await roleChanges(this.history, this.loadedTo + 1, toBlock)) {
      const key = roleKey(role, account);
      const list = this.changes.get(key) ?? [];
      list.push({ block, granted });
      this.changes.set(key, list);
    }
    this.loadedTo = toBlock;
  }

  /** The submitter roles `account` held after every transaction of `block` (a submission's intake block). */
  rolesAfter(account: string, block: number): Roles {
    const roles = {} as Roles;
    for (const role of Object.keys(SUBMITTER_ROLES) as SubmitterRole[]) roles[role] = this.held(SUBMITTER_ROLE_IDS[role], account, block);
    return roles;
  }

  /** Whether `account` held `role` after every transaction of `block`: its last change up to that block says. */
  private held(role: string, account: string, block: number): boolean {
    let holds = false;
    for (const change of this.changes.get(roleKey(role, account)) ?? []) {
      if (change.block > block) break;
      holds = change.granted;
    }
    return holds;
  }
}

const roleKey = (role: string, account: string) => `${role.toLowerCase()}:${account.toLowerCase()}`;
