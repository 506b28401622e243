import type { Logger } from "pino";
import { anchoredStatusReader, baseApp, consoleRoutes, listRoutes, statusRoutes, type BaseApp } from "../readApi";
import { serviceApiError } from "./errors";
import { serviceOverview } from "./overview";
import { batchRoutes } from "./routes/batches";
import { operationsRoutes } from "./routes/operations";
import { submissionRoutes } from "./routes/submissions";
import type { Services } from "./services";

/** Wires plugins and routes; owns nothing but the HTTP concerns. */
export async function buildApp(services: Services, options: { logger?: Logger } = {}) {
  const app = await baseApp({
    title: "Mobile-ID status registry",
    logger: options.logger,
    bodyLimit: services.limits.bodyLimitBytes,
    errors: serviceApiError,
  });
  if (options.logger?.isLevelEnabled("debug")) logAnswers(app);
  await app.register(submissionRoutes(services), { prefix: "/v1" });
  const reader = anchoredStatusReader(services.view, { pending: (index) => services.intake.record(index) });
  const verifierLimits = { requestsPerMinute: services.limits.verifierRequestsPerMinute, proofSeconds: services.metrics.proofSeconds };
  await app.register(statusRoutes(reader, verifierLimits), { prefix: "/v1" });
  if (services.lists) await app.register(listRoutes(services.lists), { prefix: "/v1" });
  await app.register(batchRoutes(services), { prefix: "/v1" });
  await app.register(operationsRoutes(services));
  await app.register(consoleRoutes({ overview: serviceOverview(services), depth: reader.depth, rpcUrl: services.chain.rpcUrl }));
  services.metrics.watchBacklog(() => ({ submissions: services.intake.backlog, events: services.intake.backlogEvents }));
  return app;
}

/** At debug, one line per answer: the route's pattern, not its values (an index is a holder's), never the body. */
function logAnswers(app: BaseApp) {
  app.addHook("onResponse", async (request, reply) => {
    const answer = { method: request.method, route: request.routeOptions.url, statusCode: reply.statusCode, ms: reply.elapsedTime };
    request.log.debug(answer, "answered");
  });
}
