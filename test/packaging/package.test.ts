import { expect } from "chai";
import { id } from "ethers";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { blankEvent, Channel, EventKind, Status, type Hex } from "../../registry-service/src/core";
import { submitSigned } from "../../registry-service/src/client/submissionClient";
import type { StatusAnswer } from "../../registry-service/src/wire";
import { devAccount, startEmbeddedChain, type EmbeddedChain } from "../../scripts/embedded-chain";
import { devDeployment } from "../support/devDeployment";
import { freePort, packAndInstall, readmeSdkExample, ROOT, run, startListening, tsc, tsconfig } from "./installedPackage";

const h = (label: string) => id(label) as Hex;
const alice = { credentialCommitment: h("packaged alice credential"), deviceKeyHash: h("packaged alice phone") };

/**
 * The package as a bank, an operator and an auditor get it: `npm pack` (which builds dist/),
 * installed into an empty project with production dependencies only. The service runs from that
 * install against a fresh chain; the README's SDK example is compiled and run there as written.
 */
describe("the npm package, installed into an empty project with production dependencies only", function () {
  this.timeout(300_000);
  let installed: Awaited<ReturnType<typeof packAndInstall>>;
  let chain: EmbeddedChain;
  let deployment: ReturnType<typeof devDeployment>;
  let service: Awaited<ReturnType<typeof startListening>>;
  const cleanup: (() => unknown)[] = [];

  before(async () => {
    const installing = packAndInstall(); // pack and install run while the chain starts
    installing.then(
      (done) => cleanup.push(done.remove),
      () => undefined,
    );
    chain = await startEmbeddedChain(0, 60_000, "hardhat");
    cleanup.push(() => chain.stop());
    deployment = devDeployment(chain.rpcUrl, 20, { BATCH_INTERVAL_MS: "200" });
    cleanup.push(deployment.temp.remove);
    installed = await installing;

    const port = await freePort();
    // the service as an operations engineer starts it from the installed package: its bin
    const server = path.join(installed.project, "node_modules", ".bin", "mobile-id-service");
    service = await startListening(server, installed.project, { ...deployment.env, PORT: String(port) }, port);
    cleanup.push(() => service.stop());

    const issued = await submitSigned(service.url, devAccount(2), deployment.domain, {
      nonce: h("packaged issue"),
      events: [{ ...blankEvent(EventKind.Issue), ...alice, channel: Channel.ChipCard }],
    });
    expect(issued.status, JSON.stringify(issued.body)).to.equal(202);
    await anchoredActive(0);
  });

  after(async () => {
    for (const step of cleanup.reverse()) await Promise.resolve(step()).catch(() => undefined);
  });

  /** The status answer of `index` once its issuance is anchored (anchoring runs on the service's own clock). */
  async function anchoredActive(index: number): Promise<StatusAnswer> {
    for (let attempt = 0; attempt < 300; attempt++) {
      const answer = (await (await fetch(`${service.url}/v1/status/${index}`)).json()) as StatusAnswer;
      if (answer.anchored?.record.status === Status.Active) return answer;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`index ${index} was never anchored as active: ${service.output()}`);
  }

  it("carries the build with its declarations, the bin, LICENSE, README and docs/spec.md, and no sources, tests or dev tools", () => {
    const { files, project, name, packageDir } = installed;
    expect(files).to.include.members([
      "LICENSE",
      "README.md",
      "docs/spec.md",
      "package.json",
      "scripts/mobile-id.js",
      "scripts/mobile-id-service.js",
      "scripts/launch.js",
      ...["verifier/index", "client/submissionClient", "core/index"].flatMap((entry) => [
        `dist/registry-service/src/${entry}.js`,
        `dist/registry-service/src/${entry}.d.ts`,
      ]),
      "dist/registry-service/src/service/server.js",
      "dist/registry-service/src/accel/keccakWorker.js",
      "dist/typechain-types/index.js",
      "dist/console/index.html",
    ]);
    const bins = ["scripts/mobile-id.js", "scripts/mobile-id-service.js", "scripts/launch.js"];
    const shipped = new Set(["LICENSE", "README.md", "docs/spec.md", "package.json", ...bins]);
    const built = (file: string) =>
      /^dist\/.*\.(js|d\.ts)$/.test(file) || /^dist\/console\/(index\.html|assets\/index-[\w-]+\.(js|css))$/.test(file);
    expect(files.filter((file) => !shipped.has(file) && !built(file))).to.deep.equal([]);
    expect(readFileSync(path.join(packageDir, "LICENSE"), "utf8")).to.match(/Apache License\s+Version 2\.0, January 2004/);
    expect(JSON.parse(readFileSync(path.join(packageDir, "package.json"), "utf8"))).to.include({ name, license: "Apache-2.0" });
    for (const devTool of ["typescript", "ts-node", "hardhat", "mocha", "@openzeppelin/contracts"])
      expect(existsSync(path.join(project, "node_modules", devTool)), devTool).to.equal(false);
  });

  it("the installed service serves the web console it ships", async () => {
    const page = await fetch(`${service.url}/console/`);
    expect([page.status, page.headers.get("content-type")]).to.deep.equal([200, "text/html; charset=utf-8"]);
    const script = /src="\.\/(assets\/index-[\w-]+\.js)"/.exec(await page.text())?.[1];
    expect((await fetch(`${service.url}/console/${script}`)).status).to.equal(200);
  });

  it("the README's SDK example type-checks against the installed declarations under moduleResolution node16 and bundler", async () => {
    const { project } = installed;
    writeFileSync(path.join(project, "check.ts"), readmeSdkExample());
    const configs = [
      tsconfig(project, "node16", ["check.ts"], { module: "node16", moduleResolution: "node16", noEmit: true, skipLibCheck: true }),
      tsconfig(project, "bundler", ["check.ts"], { module: "esnext", moduleResolution: "bundler", noEmit: true, skipLibCheck: true }),
    ];
    for (const result of await Promise.all(configs.map((config) => tsc(project, config))))
      expect(result.status, result.stdout + result.stderr).to.equal(0);
  });

  it("the README's SDK example compiles under moduleResolution node (with the package's declarations checked) and runs as written", async () => {
    const { project } = installed;
    writeFileSync(path.join(project, "check.ts"), readmeSdkExample());
    const config = tsconfig(project, "node", ["check.ts"], {
      module: "commonjs",
      moduleResolution: "node",
      outDir: ".",
      skipLibCheck: false,
    });
    const compiled = await tsc(project, config);
    expect(compiled.status, compiled.stdout + compiled.stderr).to.equal(0);

    const env = { RPC_URL: chain.rpcUrl, REGISTRY_ADDRESS: deployment.deployment.address, STATUS_SOURCES: service.url };
    const check = (device: string) => run(process.execPath, ["check.js", "0", alice.credentialCommitment, device], { cwd: project, env });
    const admitted = await check(alice.deviceKeyHash);
    expect(admitted.status, admitted.stderr).to.equal(0);
    expect(admitted.stdout).to.match(/^admit \(VALID\): credential 0 is active on this device/);
    const otherPhone = await check(h("another phone"));
    expect(otherPhone.status, otherPhone.stderr).to.equal(1);
    expect(otherPhone.stdout).to.match(/^refuse: not this ID \(DEVICE_MISMATCH\)/);
  });

  it("its entry points load from CommonJS and ESM, and the verifier's loads no service dependency", async () => {
    const { project, name } = installed;
    const esm = `import { createVerifier } from "${name}/verifier"; import { StatusTree } from "${name}/core"; import { submitSigned } from "${name}/client";
      console.log([createVerifier, StatusTree, submitSigned].map((f) => typeof f).join())`;
    const imported = await run(process.execPath, ["--input-type=module", "-e", esm], { cwd: project });
    expect(imported.stdout.trim(), imported.stderr).to.equal("function,function,function");
    const cjs = `require("${name}/verifier"); console.log(JSON.stringify(Object.keys(require.cache)))`;
    const required = await run(process.execPath, ["-e", cjs], { cwd: project });
    const loaded = JSON.parse(required.stdout) as string[];
    expect(loaded.some((file) => file.includes("/dist/registry-service/src/verifier/"))).to.equal(true);
    const heavy = ["fastify", "level", "classic-level", "secp256k1", "prom-client"].map((dependency) => `/node_modules/${dependency}/`);
    for (const part of [...heavy, "/dist/registry-service/src/service/"])
      expect(loaded.filter((file) => file.includes(part))).to.deep.equal([]);
  });

  it("mobile-id runs from the build: --version, and verify refuses a pending lock unless --ignore-pending", async () => {
    const { project } = installed;
    const bin = path.join(project, "node_modules/.bin/mobile-id");
    const version = await run(bin, ["--version"], { cwd: project });
    expect(version.stdout.trim()).to.equal(JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")).version);

    const verify = (source: string, ...flags: string[]) =>
      run(
        bin,
        [
          "verify",
          "0",
          "--commitment",
          alice.credentialCommitment,
          "--device",
          alice.deviceKeyHash,
          "--source",
          source,
          "--json",
          ...flags,
        ],
        { cwd: project, env: { RPC_URL: chain.rpcUrl, REGISTRY_ADDRESS: deployment.deployment.address } },
      );
    const valid = await verify(service.url);
    expect(valid.status, valid.stderr).to.equal(0);
    expect(JSON.parse(valid.stdout)).to.include({ valid: true, reason: "VALID" });

    // the service's real, anchored answer, with a lock reported as accepted and not yet anchored
    const answer = await anchoredActive(0);
    const pendingLock = { ...answer, pending: { ...answer.anchored.record, status: Status.Suspended, reason: 1 } };
    const source: Server = createServer((_request, response) => response.end(JSON.stringify(pendingLock)));
    await new Promise<void>((resolve) => source.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(source.address() as AddressInfo).port}`;
      const refused = await verify(url);
      expect(refused.status, refused.stderr).to.equal(1);
      expect(JSON.parse(refused.stdout)).to.include({ valid: false, reason: "PENDING_LOCK" });
      const ignored = await verify(url, "--ignore-pending");
      expect(ignored.status, ignored.stderr).to.equal(0);
      expect(JSON.parse(ignored.stdout)).to.include({ valid: true, reason: "VALID" });
    } finally {
      source.close();
    }
  });
});
