import { baseApp, readinessRoute, ApiError } from "../readApi";
import type { PostgresLease } from "../journal";
import type { Config } from "./config";
import { Leadership, leaseOptions, openLease } from "./leadership";
import type { Logger } from "./logger";
import { assertPortFree } from "./startup";

/**
 * A standby's HTTP server while another instance leads (JOURNAL_URL, docs/failover.md): /health
 * says who leads, /ready answers 503 (a load balancer sends nothing here), and every API route
 * (/v1/...) 503 NOT_LEADER with Retry-After, naming the leader's URL. It holds the port the instance serves
 * on once it takes over.
 */
export async function startStandby(options: { host: string; port: number; lease: PostgresLease; retryAfterSeconds: number }) {
  const app = await baseApp({ title: "Mobile-ID registry service (standby)" });
  const leader = async () => (await options.lease.current().catch(() => undefined)) ?? { url: "", epoch: 0, valid: false };
  app.get("/health", { schema: { tags: ["operations"] } }, async () => {
    const lease = await leader();
    return { role: "standby", leader: lease.valid ? lease.url : null, epoch: lease.epoch };
  });
  await app.register(readinessRoute(() => false));
  app.all("/v1/*", { schema: { hide: true } }, async () => {
    const lease = await leader();
    const where = lease.valid ? `the leader is at ${lease.url}` : "no instance leads right now (a take-over is under way)";
    throw new ApiError("NOT_LEADER", 503, `this instance is a standby: ${where}; send writes there, or retry`, options.retryAfterSeconds);
  });
  const url = await app.listen({ host: options.host, port: options.port });
  return { url, port: app.server.address() as { port: number }, close: () => app.close() };
}

/**
 * With JOURNAL_URL, until this instance holds the lease: a standby on HOST:PORT (503 NOT_LEADER
 * to all but /health), logged as "registry-service standing by". Then the port it had, for the leader.
 */
export async function standBy(config: Config, log: Logger) {
  await assertPortFree(config.HOST, config.PORT, "PORT");
  const lease = await openLease(config);
  const options = leaseOptions(config);
  const standby = await startStandby({ host: config.HOST, port: config.PORT, lease, retryAfterSeconds: Math.ceil(options.ttlMs / 1000) });
  let waited = false;
  const leadership = await Leadership.acquire(lease, options, () => {
    waited = true;
    log.info({ url: standby.url }, "registry-service standing by");
  });
  await standby.close();
  if (waited) log.info({ epoch: leadership.epoch }, "taking over: the lease is this instance's");
  return { leadership, port: standby.port.port };
}

