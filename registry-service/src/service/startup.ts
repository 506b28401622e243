import net from "node:net";

/** Stable codes of a refused start; each message names the setting to fix. */
export type StartupErrorCode =
  /** a setting is missing or malformed */
  | "INVALID_SETTING"
  /** the port is taken (or forbidden), or the host is not this machine's */
  | "PORT_UNAVAILABLE"
  /** RPC_URL does not answer JSON-RPC */
  | "CHAIN_UNREACHABLE"
  /** no contract at REGISTRY_ADDRESS on that chain */
  | "NO_REGISTRY"
  /** the publisher key does not hold PUBLISHER_ROLE */
  | "NOT_PUBLISHER"
  /** another running process uses the data directory */
  | "DATA_DIR_IN_USE";

/** The process cannot start as configured: one line naming the setting, exit code 2. */
export class StartupError extends Error {
  constructor(
    readonly code: StartupErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "StartupError";
  }
}

/**
 * Refuses a port another process holds before anything is started on its behalf (a chain deployed,
 * a journal opened), by binding it for a moment. The real listen can still lose a race: its error
 * goes through `listenRefusal` too. Port 0 (the system picks one) is always free.
 */
export async function assertPortFree(host: string, port: number, setting: string): Promise<void> {
  if (port === 0) return;
  const probe = net.createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once("error", reject);
    probe.listen({ host, port, exclusive: true }, resolve);
  }).catch((error: unknown) => {
    throw listenRefusal(error, host, port, setting);
  });
  await new Promise((resolve) => probe.close(resolve));
}

/** A failed listen as a StartupError naming `setting` when the port or host is at fault; any other error as it is. */
export function listenRefusal(error: unknown, host: string, port: number, setting: string): unknown {
  const where = `${host}:${port}`;
  switch ((error as NodeJS.ErrnoException).code) {
    case "EADDRINUSE":
      return new StartupError("PORT_UNAVAILABLE", `${setting} ${port} is taken on ${host} by another process: stop it or set ${setting}`);
    case "EACCES":
      return new StartupError("PORT_UNAVAILABLE", `${setting} ${port} needs privileges to listen on ${where}: set ${setting} above 1023`);
    case "EADDRNOTAVAIL":
    case "ENOTFOUND":
      return new StartupError("PORT_UNAVAILABLE", `HOST ${host} is not an address of this machine (listening on ${where} for ${setting})`);
    default:
      return error;
  }
}
