import type { Command } from "commander";
import type { ContractTransactionResponse, JsonRpcProvider } from "ethers";
import { PUBLISHER_ROLE_NAME, roleId, SUBMITTER_ROLES, WITNESS_ROLE_NAME, ZERO32 } from "../core";
import { ChainHistory, confirmedReceipt, describedRevert, roleChanges, type RoleChange } from "../chain/read";
import { CliError, usageError } from "./errors";
import { keyOptions, loadWallet } from "./keys";
import { address, chainOptions, connectChain, integer, named, print, registryOf } from "./options";

/** The roles the admin grants, by the CLI's names. */
const ROLES: Record<string, string> = {
  issuer: SUBMITTER_ROLES.issuer,
  operator: SUBMITTER_ROLES.operator,
  publisher: PUBLISHER_ROLE_NAME,
  witness: WITNESS_ROLE_NAME,
};
const ROLE_NAMES = new Map<string, string>([
  [ZERO32, "DEFAULT_ADMIN_ROLE"],
  ...Object.values(ROLES).map((name) => [roleId(name), name] as [string, string]),
]);

interface ChainOptions {
  rpc: string;
  registry?: string;
  deployment?: string;
  keystore?: string;
  json?: boolean;
}

/**
 * The registry, read-only, with the admin's key (which must hold DEFAULT_ADMIN_ROLE), or with any
 * key ("signer": the incoming admin accepting a transfer).
 */
async function connectRegistry(options: ChainOptions, as: "reader" | "admin" | "signer") {
  const registryAddress = registryOf(options);
  const { StatusRegistry__factory } = await import("../../../typechain-types");
  const provider = await connectChain(options.rpc);
  if ((await provider.getCode(registryAddress)) === "0x") throw usageError(`no contract at ${registryAddress} on ${options.rpc}`);
  if (as === "reader") return { provider, registryAddress, registry: StatusRegistry__factory.connect(registryAddress, provider) };
  const wallet = (await loadWallet(options)).connect(provider);
  const registry = StatusRegistry__factory.connect(registryAddress, wallet);
  if (as === "admin" && !(await registry.hasRole(ZERO32, wallet.address)))
    throw new CliError(
      "REFUSED",
      `${wallet.address} does not hold DEFAULT_ADMIN_ROLE on ${registryAddress}: only the admin grants roles and pauses`,
      "NOT_ADMIN",
    );
  return { provider, registryAddress, registry, wallet };
}

/** Sends an admin transaction and waits for it to be mined; a revert is the chain's refusal (exit 1) with its custom error. */
async function transact(provider: JsonRpcProvider, what: string, send: () => Promise<ContractTransactionResponse>) {
  try {
    const tx = await send();
    const receipt = await confirmedReceipt(provider, tx.hash, 1);
    if (receipt.status !== 1) throw new CliError("REFUSED", `${what}: transaction ${tx.hash} reverted`, "REVERTED");
    return { transactionHash: tx.hash, blockNumber: receipt.blockNumber };
  } catch (error) {
    // ethers decodes a revert in a call it made itself; one refused at gas estimation carries only its data
    const revert = (error as { revert?: { name: string; args: readonly unknown[] } }).revert ?? (await contractRevert(error));
    if (revert) throw new CliError("REFUSED", `${what} refused by the registry: ${revert.name}(${revert.args.join(", ")})`, revert.name);
    throw error;
  }
}

/** A revert by the contract's full ABI (OpenZeppelin's errors too), from the data a refused gas estimation carries. */
async function contractRevert(error: unknown): Promise<{ name: string; args: readonly unknown[] } | undefined> {
  const data = (error as { data?: unknown }).data;
  if (typeof data !== "string" || data.length < 10) return describedRevert(error);
  const { StatusRegistry__factory } = await import("../../../typechain-types");
  return StatusRegistry__factory.createInterface().parseError(data) ?? undefined;
}

export function adminCommands(program: Command): void {
  const roles = program.command("roles").description("the registry's roles (admin: grant and revoke)");
  chainOptions(roles.command("list"))
    .description("who holds which role now, from the registry's RoleGranted and RoleRevoked logs")
    .action(listRoles);
  for (const action of ["grant", "revoke"] as const) {
    keyOptions(chainOptions(roles.command(action)))
      .description(`${action} a role (admin key)`)
      .argument("<role>", Object.keys(ROLES).join(", "))
      .argument("<address>", "the account", address("address"))
      .action((role: string, account: string, options: ChainOptions) => changeRole(action, role, account, options));
  }
  keyOptions(chainOptions(program.command("approve-correction")))
    .description("after a divergence: strike every batch after <base> and let the publisher re-base on it (admin key; docs/runbook.md)")
    .argument("<base>", "the last batch the audit replays cleanly (the service's latest anchored batch)", integer("<base>"))
    .action(approveCorrection);
  for (const action of ["pause", "unpause"] as const) {
    keyOptions(chainOptions(program.command(action)))
      .description(`${action} anchoring on the registry (admin key; views keep working)`)
      .action((options: ChainOptions) => setPaused(action === "pause", options));
  }
  adminTransferCommands(program);
}

/** The admin's two-step hand-over (AccessControlDefaultAdminRules): begin (admin), wait the delay, accept (the new admin). */
function adminTransferCommands(program: Command): void {
  const admin = program.command("admin").description("the registry's admin: who it is, and its two-step hand-over with a delay");
  chainOptions(admin.command("show")).description("the admin, the transfer delay and any pending transfer").action(showAdmin);
  keyOptions(chainOptions(admin.command("transfer")))
    .description("begin handing the admin role to <address> (admin key); it accepts after the delay")
    .argument("<address>", "the new admin", address("address"))
    .action((to: string, options: ChainOptions) =>
      adminStep(options, "admin", `begin the admin transfer to ${to}`, (registry) => registry.beginDefaultAdminTransfer(to)),
    );
  keyOptions(chainOptions(admin.command("accept")))
    .description("accept a pending admin transfer (the NEW admin's key), once its delay has passed")
    .action((options: ChainOptions) =>
      adminStep(options, "signer", "accept the admin transfer", (registry) => registry.acceptDefaultAdminTransfer()),
    );
  keyOptions(chainOptions(admin.command("cancel")))
    .description("cancel a pending admin transfer (admin key)")
    .action((options: ChainOptions) =>
      adminStep(options, "admin", "cancel the admin transfer", (registry) => registry.cancelDefaultAdminTransfer()),
    );
}

type Registry = Awaited<ReturnType<typeof connectRegistry>>["registry"];

async function adminStep(
  options: ChainOptions,
  as: "admin" | "signer",
  what: string,
  send: (registry: Registry) => Promise<ContractTransactionResponse>,
): Promise<void> {
  const { provider, registry } = await connectRegistry(options, as);
  const sent = await transact(provider, what, () => send(registry));
  const state = await adminState(registry);
  print(options.json, { ...state, ...sent }, `${what}: done, transaction ${sent.transactionHash}\n${adminText(state)}`);
}

async function showAdmin(options: ChainOptions): Promise<void> {
  const { registry } = await connectRegistry(options, "reader");
  const state = await adminState(registry);
  print(options.json, state, adminText(state));
}

async function adminState(registry: Registry) {
  const [admin, delay, [pending, schedule]] = await Promise.all([
    registry.defaultAdmin(),
    registry.defaultAdminDelay(),
    registry.pendingDefaultAdmin(),
  ]);
  const none = pending === "0x0000000000000000000000000000000000000000";
  return { admin, delaySeconds: Number(delay), pending: none ? null : { admin: pending, acceptableFrom: Number(schedule) } };
}

function adminText(state: Awaited<ReturnType<typeof adminState>>): string {
  const pending = state.pending
    ? `pending transfer to ${state.pending.admin}, acceptable from ${new Date(state.pending.acceptableFrom * 1000).toISOString()}`
    : "no pending transfer";
  return `admin ${state.admin} (transfers wait ${state.delaySeconds} s); ${pending}`;
}

async function listRoles(options: ChainOptions): Promise<void> {
  const { provider, registry, registryAddress } = await connectRegistry(options, "reader");
  const history = new ChainHistory(provider, registryAddress);
  const [head, deployedAt, paused] = await Promise.all([history.head(), registry.batchInfo(0), registry.paused()]);
  const roles = holders(await roleChanges(history, Number(deployedAt.anchoredBlock), head));
  const lines = Object.entries(roles).flatMap(([role, accounts]) =>
    accounts.length
      ? accounts.map(({ account, grantedInBlock }) => `${role.padEnd(20)}${account} (since block ${grantedInBlock})`)
      : [`${role.padEnd(20)}(nobody)`],
  );
  const title = `registry ${registryAddress}, roles as of block ${head}; anchoring ${paused ? "PAUSED" : "not paused"}`;
  print(options.json, { registry: registryAddress, block: head, paused, roles }, [title, ...lines].join("\n"));
}

/** Who holds each role after these changes (in chain order), with the block of the grant that holds. */
function holders(changes: RoleChange[]): Record<string, { account: string; grantedInBlock: number }[]> {
  const byRole = new Map<string, Map<string, number>>();
  for (const change of changes) {
    const role = ROLE_NAMES.get(change.role) ?? change.role;
    const accounts = byRole.get(role) ?? new Map<string, number>();
    if (change.granted) accounts.set(change.account, change.block);
    else accounts.delete(change.account);
    byRole.set(role, accounts);
  }
  return Object.fromEntries(
    [...byRole].map(([role, accounts]) => [role, [...accounts].map(([account, grantedInBlock]) => ({ account, grantedInBlock }))]),
  );
}

async function changeRole(action: "grant" | "revoke", roleName: string, account: string, options: ChainOptions): Promise<void> {
  const role = named(ROLES, "role", roleName);
  const { provider, registry } = await connectRegistry(options, "admin");
  const holds = await registry.hasRole(roleId(role), account);
  if (holds === (action === "grant")) {
    const state = holds ? "holds" : "does not hold";
    return print(options.json, { role, account, changed: false }, `${account} ${state} ${role} already: nothing sent`);
  }
  const sent = await transact(provider, `${action} ${role}`, () =>
    action === "grant" ? registry.grantRole(roleId(role), account) : registry.revokeRole(roleId(role), account),
  );
  const done = action === "grant" ? "granted to" : "revoked from";
  print(
    options.json,
    { role, account, changed: true, ...sent },
    `${role} ${done} ${account}: transaction ${sent.transactionHash} (block ${sent.blockNumber})`,
  );
}

async function setPaused(pause: boolean, options: ChainOptions): Promise<void> {
  const { provider, registry } = await connectRegistry(options, "admin");
  const state = pause ? "paused" : "not paused";
  if ((await registry.paused()) === pause)
    return print(options.json, { paused: pause, changed: false }, `anchoring is ${state} already: nothing sent`);
  const sent = await transact(provider, pause ? "pause" : "unpause", () => (pause ? registry.pause() : registry.unpause()));
  print(
    options.json,
    { paused: pause, changed: true, ...sent },
    `anchoring ${state} now: transaction ${sent.transactionHash} (block ${sent.blockNumber})`,
  );
}

async function approveCorrection(base: number, options: ChainOptions): Promise<void> {
  const { provider, registry } = await connectRegistry(options, "admin");
  const latest = Number((await registry.latestBatch()).batch);
  const sent = await transact(provider, `approve a correction on batch ${base}`, () => registry.approveCorrection(base));
  const struck = latest === base + 1 ? `batch ${latest}` : `batches ${base + 1}..${latest}`;
  print(
    options.json,
    { base, through: latest, ...sent },
    `correction approved: ${struck} will be struck when the publisher anchors the correction (restart the service); transaction ${sent.transactionHash} (block ${sent.blockNumber})`,
  );
}
