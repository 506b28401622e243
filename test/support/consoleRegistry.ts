import http from "node:http";
import { withGrants } from "./devices";
import type { AddressInfo } from "node:net";
import { chromium, type Browser, type Page } from "playwright-core";
import { Status, type StatusEvent } from "../../registry-service/src/core";
import { connectRpc } from "../../registry-service/src/chain/read";
import { submitSigned } from "../../registry-service/src/client/submissionClient";
import { startMirror } from "../../registry-service/src/mirror/mirror";
import { loadConfig } from "../../registry-service/src/service/config";
import { startService } from "../../registry-service/src/service/server";
import type { StatusAnswer } from "../../registry-service/src/wire";
import { devAccount, startEmbeddedChain } from "../../scripts/embedded-chain";
import { devDeployment } from "./devDeployment";
import { silentLog } from "./logs";
import { ev, h } from "./scriptedPublisher";

const { ensureConsoleBundle } = require("../../scripts/console-bundle") as { ensureConsoleBundle: () => boolean };
const { chromiumPath } = require("../../scripts/chromium") as { chromiumPath: () => string };

/** Dev accounts: 2 holds ISSUER_ROLE, 3 OPERATOR_ROLE (scripts/embedded-chain.ts). */
const ISSUER = 2;
const OPERATOR = 3;

/** Waits for `condition` to hold, asking every 100 ms, up to `timeoutMs`. */
export async function until<T>(what: string, condition: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * What the console's tests and `npm run screenshots` look at: a Hardhat node, a registry with the
 * dev roles, the real service (its console built first) and a mirror of the chain, each on a free port.
 */
export async function startConsoleRegistry() {
  ensureConsoleBundle();
  const chain = await startEmbeddedChain(0, 60_000, "hardhat");
  const { temp, deployment, env, domain } = devDeployment(chain.rpcUrl, 32, { BATCH_INTERVAL_MS: "200" });
  const service = await startService(loadConfig(env), silentLog());
  const mirrorNode = await connectRpc(chain.rpcUrl);
  const mirror = await startMirror({ provider: mirrorNode, registry: deployment.address, port: 0, pollMs: 250, rpcUrl: chain.rpcUrl });
  let nonce = 0;
  const submit = async (signer: number, events: StatusEvent[]) => {
    const granted = withGrants(events, domain, devAccount(signer).address);
    const answer = await submitSigned(service.url, devAccount(signer), domain, { nonce: h(`console ${nonce++}`), events: granted });
    if (answer.status >= 300) throw new Error(`submission refused: ${JSON.stringify(answer.body)}`);
    return answer.body as { applied: { record: { index: number } }[] };
  };
  const status = async (index: number) => (await (await fetch(`${service.url}/v1/status/${index}`)).json()) as StatusAnswer;
  /** Waits until the service's anchored record of `index` has `wanted` status; its answer. */
  const anchoredAs = (index: number, wanted: Status) =>
    until(`index ${index} anchored as ${Status[wanted]}`, async () => {
      const answer = await status(index);
      return answer.anchored.record.status === wanted && answer;
    });
  return {
    chain,
    deployment,
    service,
    mirror,
    status,
    anchoredAs,
    /** issues a credential to `holder` on `device`; its index once anchored */
    async issue(holder: string, device: string) {
      const index = (await submit(ISSUER, [ev.issue(holder, device)])).applied[0].record.index;
      await anchoredAs(index, Status.Active);
      return index;
    },
    /** the operator's lock of a lost phone */
    lock: (device: string) => submit(OPERATOR, [ev.lock(device)]),
    async close() {
      await mirror.close();
      mirrorNode.destroy();
      await service.close();
      await chain.stop();
      temp.remove();
    },
  };
}

export type ConsoleRegistry = Awaited<ReturnType<typeof startConsoleRegistry>>;

/** Headless Chromium (Debian's package, installed when missing) driven by playwright-core. */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: ["--no-sandbox", "--disable-gpu"] });
}

/** A page whose console errors and uncaught exceptions are collected. */
export async function watchedPage(browser: Browser, viewport = { width: 1280, height: 900 }) {
  const page: Page = await browser.newPage({ viewport });
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  return { page, errors };
}

/**
 * A status source that lies: it forwards the service's answers but shows every record as ACTIVE,
 * keeping the proof, as a compromised server would to keep a locked phone's ID working. Answers
 * cross-origin requests, as a real source would.
 */
export async function lyingSource(serviceUrl: string) {
  const server = http.createServer(async (request, response) => {
    const upstream = await fetch(`${serviceUrl}${request.url}`);
    const body = (await upstream.json()) as StatusAnswer;
    if (body.anchored) body.anchored.record = { ...body.anchored.record, status: Status.Active, reason: 0 };
    response.writeHead(upstream.status, { "content-type": "application/json", "access-control-allow-origin": "*" });
    response.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
