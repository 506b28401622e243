import { expect } from "chai";
import { execFile } from "node:child_process";

const run = (args: string[], env: Record<string, string> = {}) =>
  new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(
      process.execPath,
      args,
      { env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "1", ...env } },
      (_error, stdout, stderr) => resolve({ status: child.exitCode, stdout, stderr }),
    );
  });

describe("npm run demo and the CLI's refusals", function () {
  this.timeout(120_000);

  it("tells the whole story on the embedded chain and ends with a passed audit", async () => {
    const demo = await run(["-r", "ts-node/register", "scripts/demo.ts"], { DEMO_CHAIN_PORT: "0" });
    expect(demo.status, demo.stderr).to.equal(0);
    expect(demo.stdout).to.match(/REFUSED \(PENDING_LOCK\)/);
    expect(demo.stdout).to.match(/locked on the chain [0-9.]+ s after the report/);
    expect(demo.stdout).to.match(/bank, old phone: REFUSED \(REVOKED\).*SUPERSEDED/);
    expect(demo.stdout).to.contain("AUDIT PASSED");
  });

  it("answers bad arguments and an unreachable chain with one line and exit code 2", async () => {
    const hash = `0x${"11".repeat(32)}`;
    const bad = await run([
      "scripts/mobile-id.js",
      "verify",
      "x",
      "--commitment",
      hash,
      "--device",
      hash,
      "--registry",
      "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    ]);
    expect(bad.status).to.equal(2);
    expect(bad.stderr).to.match(/index must be a non-negative integer/);
    const noRegistry = await run(["scripts/mobile-id.js", "audit"], { REGISTRY_ADDRESS: "" });
    expect(noRegistry).to.include({ status: 2 });
    expect(noRegistry.stderr.trim()).to.match(/^mobile-id: give the registry: --registry 0x\.\.\.[^\n]*$/);
    const down = await run([
      "scripts/mobile-id.js",
      "audit",
      "--rpc",
      "http://127.0.0.1:9",
      "--registry",
      "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    ]);
    expect(down.status).to.equal(2);
    expect(down.stderr.trim()).to.match(/^mobile-id: chain at http:\/\/127.0.0.1:9 does not answer/);
  });
});
