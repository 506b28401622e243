import { startEmbeddedPostgres, type EmbeddedCluster } from "../../scripts/embedded-postgres";

let cluster: Promise<EmbeddedCluster> | undefined;

/**
 * A new, empty database on the test run's one PostgreSQL cluster (embedded-postgres, on a free port
 * of 127.0.0.1, its data under os.tmpdir()): started at the first call, stopped after the run.
 */
export async function freshDatabase(): Promise<string> {
  cluster ??= startEmbeddedPostgres();
  return (await cluster).createDatabase();
}

// a root hook: once every test of the run is done, the cluster goes (mocha loads this file before any test runs)
if (typeof after === "function") {
  after(async () => {
    if (cluster) await (await cluster).stop();
    cluster = undefined;
  });
}
