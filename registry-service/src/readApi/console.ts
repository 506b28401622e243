import { existsSync } from "node:fs";
import path from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { ConsoleConfig, ErrorBody, Overview } from "../wire";
import { ApiError } from "./errors";
import { overviewOf, type OverviewSource } from "./overview";

/** Where the console's pages are served; `/` leads there. */
export const CONSOLE_PATH = "/console/";

/**
 * The built console (`npm run build` writes it to dist/console/): beside this file's compiled
 * copy in dist/, or at the repository's dist/console/ when the service runs from its sources.
 */
export function consoleBundleDir(): string | undefined {
  const up = path.join(__dirname, "..", "..", "..");
  return [path.join(up, "console"), path.join(up, "dist", "console")].find((dir) => existsSync(path.join(dir, "index.html")));
}

export interface ConsoleOptions {
  /** the server's side of the overview (its kind, chain and registry too) */
  overview: OverviewSource;
  depth: number;
  /** the chain node the pages ask from the browser */
  rpcUrl: string;
  /** the built bundle (default: consoleBundleDir()); none: the pages answer 503 CONSOLE_NOT_BUILT */
  bundleDir?: string;
}

/** The web console (service and mirror alike): its pages, its settings, the overview it polls. */
export const consoleRoutes =
  (options: ConsoleOptions): FastifyPluginAsyncTypebox =>
  async (app) => {
    const tags = ["operations"];
    const { server, chainId, registry } = options.overview;
    const config: ConsoleConfig = { server, chainId, registry, depth: options.depth, rpcUrl: options.rpcUrl };
    const overview = overviewOf(options.overview);
    const configSchema = { tags, summary: "What the web console needs to know: server kind, chain, registry, chain node URL" };
    app.get("/v1/console/config", { schema: { ...configSchema, response: { 200: ConsoleConfig } } }, async () => config);
    const overviewSchema = {
      tags,
      summary: "The registry at a glance: latest anchor and its age, backlog, anchoring lag, events per second, recent batches",
      response: { 200: Overview, 503: ErrorBody },
    };
    app.get("/v1/overview", { schema: overviewSchema }, () => overview());
    app.get("/", { schema: { hide: true } }, (_request, reply) => reply.redirect(CONSOLE_PATH));

    const root = options.bundleDir ?? consoleBundleDir();
    if (root) {
      await app.register(fastifyStatic, { root, prefix: CONSOLE_PATH, decorateReply: false, redirect: true });
      return;
    }
    app.get(`${CONSOLE_PATH}*`, { schema: { hide: true } }, async () => {
      throw new ApiError("CONSOLE_NOT_BUILT", 503, "the web console is not built: run `npm run build` (or `npm run build:console`)");
    });
  };
