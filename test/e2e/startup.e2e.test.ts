import { expect } from "chai";
import { createServer } from "node:http";
import { existsSync } from "node:fs";
import path from "node:path";
import { JsonRpcProvider } from "ethers";
import { deadlineIn, signSubmission, type Submission } from "../../registry-service/src/core";
import { loadConfig } from "../../registry-service/src/service/config";
import { startService } from "../../registry-service/src/service/server";
import { StartupError } from "../../registry-service/src/service/startup";
import { devAccount, startEmbeddedChain, type EmbeddedChain } from "../../scripts/embedded-chain";
import { startServiceProcess } from "../../scripts/service-process";
import { devDeployment } from "../support/devDeployment";
import { silentLog } from "../support/logs";
import { closedPort, holdPort, runScript, startScript } from "../support/processes";
import { ev, h } from "../support/scriptedPublisher";
import { tempDir } from "../support/tempRegistry";

const SERVICE = "registry-service/src/service/server.ts";
const NPM_START = "scripts/start.ts";
type LogLine = Record<string, unknown> & { msg: string; level: number };
const logLines = (output: string) =>
  output
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as LogLine);

/** Waits, bounded, until `done()`; fails naming `what`, with the output so far. */
async function until(done: () => boolean, what: string, output: () => string) {
  for (let attempt = 0; attempt < 600 && !done(); attempt++) await new Promise((resolve) => setTimeout(resolve, 100));
  if (!done()) throw new Error(`${what} did not come: ${output()}`);
}

/**
 * The service and npm start as processes: what they log, and how they refuse to start (one line,
 * exit code 2). Processes that do not depend on each other run side by side: each costs a Node start.
 */
describe("start-up and logs of the real processes", function () {
  this.timeout(180_000);
  let chain: EmbeddedChain;
  let setup: ReturnType<typeof devDeployment>;
  let npmStart: ReturnType<typeof startScript>;
  const cleanup: (() => Promise<unknown> | void)[] = [];
  const dataDir = () => {
    const temp = tempDir("npm-start-");
    cleanup.push(temp.remove);
    return temp.dir;
  };
  const heldPort = async () => {
    const port = await holdPort();
    cleanup.push(port.release);
    return port.port;
  };
  let startDir: string;
  before(async () => {
    // npm start on its own chain, from now on: the last test kills that chain
    startDir = dataDir();
    npmStart = startScript(NPM_START, { CHAIN_PORT: "0", PORT: "0", START_DATA_DIR: startDir });
    cleanup.push(() => void npmStart.child.kill("SIGKILL"));
    chain = await startEmbeddedChain(0, 60_000, "anvil");
    setup = devDeployment(chain.rpcUrl, 20, { BATCH_INTERVAL_MS: "200", LOG_LEVEL: "trace" });
  });
  after(async () => {
    for (const step of cleanup.reverse()) await step();
    setup?.temp.remove();
    await chain?.stop();
  });

  describe("the service process", () => {
    let output: string;
    let signed: Submission;
    let unreachable: ReturnType<typeof runScript>;
    before(async () => {
      unreachable = runScript(SERVICE, { ...setup.env, RPC_URL: `http://127.0.0.1:${await closedPort()}` });
      const service = await startServiceProcess(setup.env);
      try {
        const events = [ev.issue("a holder whose reference is never logged", "her phone")];
        signed = await signSubmission(devAccount(2), setup.domain, { nonce: h("log run"), deadline: deadlineIn(3600), events });
        const post = (body: object) =>
          fetch(`${service.url}/v1/submissions`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(body),
          });
        expect((await post(signed)).status).to.equal(202);
        expect((await post({ ...signed, nonce: "0x12" })).status, "a malformed body").to.equal(400);
        await until(() => service.output().includes('"batch anchored"'), "the anchor's log line", service.output);
      } finally {
        await service.stop();
      }
      output = service.output();
    });

    it("logs each anchored batch with its number, events, transaction, block and time", async () => {
      const [anchored] = logLines(output).filter((line) => line.msg === "batch anchored");
      expect(anchored).to.include({ level: 30, batch: 1, events: 1 });
      expect(anchored.ms).to.be.a("number");
      const provider = new JsonRpcProvider(chain.rpcUrl, undefined, { staticNetwork: true });
      const receipt = await provider.getTransactionReceipt(anchored.transactionHash as string);
      provider.destroy();
      expect([receipt?.to, receipt?.blockNumber]).to.deep.equal([setup.deployment.address, anchored.blockNumber]);
    });

    it("never writes the publisher key, nor any part of a request body, at level trace", () => {
      const text = output.toLowerCase();
      expect(text, "the configuration is logged, its key redacted").to.contain('"publisher_key":"[redacted]"');
      expect(text).not.to.contain(setup.env.PUBLISHER_KEY.slice(2).toLowerCase());
      const { credentialCommitment, deviceKeyHash } = signed.events[0];
      for (const value of [signed.nonce, signed.signature, credentialCommitment, deviceKeyHash])
        expect(text).not.to.contain(value.slice(2).toLowerCase());
    });

    it("refuses an RPC_URL nothing answers: one line naming RPC_URL, exit code 2", async () => {
      const { code, stdout, stderr } = await unreachable;
      expect(code, stdout + stderr).to.equal(2);
      expect(stderr.trim()).to.match(/^registry-service: RPC_URL: chain at http:\/\/127\.0\.0\.1:\d+ does not answer[^\n]*$/);
    });
  });

  describe("startService refuses a setting that cannot work, naming it (the process exits 2 on these)", () => {
    const notAChain = async () => {
      const server = createServer((_request, response) => response.writeHead(404).end("not found"));
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      cleanup.push(() => new Promise((resolve) => server.close(resolve)));
      return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    };
    for (const { title, env, code, message } of [
      {
        title: "a taken PORT",
        env: async () => ({ PORT: String(await heldPort()) }),
        code: "PORT_UNAVAILABLE",
        message: /^PORT \d+ is taken/,
      },
      {
        title: "an RPC_URL that is no JSON-RPC node",
        env: async () => ({ RPC_URL: await notAChain() }),
        code: "CHAIN_UNREACHABLE",
        message: /^RPC_URL: /,
      },
      {
        title: "a chain without the registry at REGISTRY_ADDRESS",
        env: async () => ({ REGISTRY_ADDRESS: devAccount(5).address }),
        code: "NO_REGISTRY",
        message: /^REGISTRY_ADDRESS: no contract at 0x[0-9a-fA-F]{40} on the chain at RPC_URL /,
      },
      {
        title: "a PUBLISHER_KEY without PUBLISHER_ROLE",
        env: async () => ({ PUBLISHER_KEY: devAccount(5).privateKey }),
        code: "NOT_PUBLISHER",
        message: /^PUBLISHER_KEY: its account 0x[0-9a-fA-F]{40} does not hold PUBLISHER_ROLE/,
      },
    ]) {
      it(title, async () => {
        const refusal = await startService(loadConfig({ ...setup.env, ...(await env()) }), silentLog()).then(
          (service) => service.close().then(() => expect.fail("it started")),
          (error: unknown) => error,
        );
        expect(refusal).to.be.instanceOf(StartupError).and.include({ code }).and.have.property("message").that.matches(message);
      });
    }
  });

  describe("npm start", () => {
    it("refuses a CHAIN_PORT where another chain listens, and a taken PORT: one line naming it, exit code 2, nothing deployed", async () => {
      const provider = new JsonRpcProvider(chain.rpcUrl, undefined, { staticNetwork: true });
      const deployer = devAccount(0).address;
      const sentBefore = await provider.getTransactionCount(deployer);
      const [foreignChain, takenPort] = await Promise.all([
        runScript(NPM_START, { CHAIN_PORT: new URL(chain.rpcUrl).port, PORT: "0", START_DATA_DIR: dataDir() }),
        runScript(NPM_START, { CHAIN_PORT: "0", PORT: String(await heldPort()), START_DATA_DIR: dataDir() }),
      ]);
      expect(foreignChain.code, foreignChain.stdout + foreignChain.stderr).to.equal(2);
      expect(foreignChain.stderr.trim()).to.match(/^npm start: CHAIN_PORT \d+ is taken on 127\.0\.0\.1 by another process[^\n]*$/);
      expect(await provider.getTransactionCount(deployer), "transactions sent to the foreign chain").to.equal(sentBefore);
      provider.destroy();
      expect(takenPort.code, takenPort.stdout + takenPort.stderr).to.equal(2);
      expect(takenPort.stderr.trim()).to.match(/^npm start: PORT \d+ is taken on 127\.0\.0\.1 by another process[^\n]*$/);
    });

    it("refuses a data directory another npm start uses, on other ports, leaving its journal alone", async () => {
      await npmStart.line((line) => line.includes("npm start is ready"));
      const second = await runScript(NPM_START, { CHAIN_PORT: "0", PORT: "0", START_DATA_DIR: startDir });
      expect(second.code, second.stdout + second.stderr).to.equal(2);
      expect(second.stderr.trim()).to.match(/^npm start: START_DATA_DIR \S+ is in use by another npm start \(pid \d+\)[^\n]*$/);
      expect(existsSync(path.join(startDir, "service")), "the first one's journal").to.equal(true);
    });

    it("stops, with one line and a non-zero exit code, when its embedded chain dies", async () => {
      const ready = JSON.parse(await npmStart.line((line) => line.includes("npm start is ready"))) as { chainPid: number; api: string };
      expect((await fetch(`${ready.api.replace(/\/v1$/, "")}/health`)).status).to.equal(200);
      process.kill(ready.chainPid, "SIGKILL");
      const { code } = await npmStart.exited;
      expect(code).to.equal(1);
      expect(npmStart.output.stderr.trim()).to.match(/^npm start: the embedded chain stopped \(SIGKILL\); the service stops with it$/);
    });
  });
});
