import { SUBMITTER_ROLES, type Roles, type SubmitterRole } from "../../core";
import type { ChainHistory, ChainPosition } from "./history";
import { SUBMITTER_ROLE_IDS } from "./registryAbi";

/** Who held which role when, rebuilt from RoleGranted/RoleRevoked logs (no archive node needed). */
export class RoleTimeline {
  private readonly changes = new Map<string, { at: ChainPosition; granted: boolean }[]>();
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
    const from = this.loadedTo + 1;
    const [granted, revoked] = await Promise.all([
      this.history.logs("RoleGranted", from, toBlock),
      this.history.logs("RoleRevoked", from, toBlock),
    ]);
    const all = [...granted.map((log) => ({ log, granted: true })), ...revoked.map((log) => ({ log, granted: false }))];
    all.sort((a, b) => a.log.blockNumber - b.log.blockNumber || a.log.index - b.log.index);
    for (const { log, granted: isGrant } of all) {
      const key = roleKey(log.args.role, log.args.account);
      const list = this.changes.get(key) ?? [];
      list.push({ at: { blockNumber: log.blockNumber, transactionIndex: log.transactionIndex }, granted: isGrant });
      this.changes.set(key, list);
    }
    this.loadedTo = toBlock;
  }

  /** Whether `account` held `role` just before the transaction at `at`. */
  held(role: string, account: string, at: ChainPosition): boolean {
    let holds = false;
    for (const change of this.changes.get(roleKey(role, account)) ?? []) {
      const before =
        change.at.blockNumber < at.blockNumber ||
        (change.at.blockNumber === at.blockNumber && change.at.transactionIndex < at.transactionIndex);
      if (!before) break;
      holds = change.granted;
    }
    return holds;
  }

  /** The submitter roles `account` held after every transaction of `block` (a submission's intake block). */
  rolesAfter(account: string, block: number): Roles {
    return this.rolesAt(account, { blockNumber: block + 1, transactionIndex: 0 });
  }

  /** The submitter roles `account` held just before the transaction at `at`. */
  rolesAt(account: string, at: ChainPosition): Roles {
    const roles = {} as Roles;
    for (const role of Object.keys(SUBMITTER_ROLES) as SubmitterRole[]) roles[role] = this.held(SUBMITTER_ROLE_IDS[role], account, at);
    return roles;
  }
}

const roleKey = (role: string, account: string) => `${role.toLowerCase()}:${account.toLowerCase()}`;
