import { expect } from "chai";
import { execFileSync } from "node:child_process";
import path from "node:path";

const ROOT = path.join(__dirname, "../..");

/** The project files and packages a fresh Node process has loaded after requiring `entry`, and whether it started a worker. */
function footprint(entry: string): { files: string[]; packages: string[]; nativeAddons: string[] } {
  const script = `
    const Module = require("node:module");
    const native = [];
    const load = process.dlopen;
    process.dlopen = (module, file, ...rest) => (native.push(file), load.call(process, module, file, ...rest));
    require(${JSON.stringify(entry)});
    const loaded = Object.keys(require.cache);
    console.log(JSON.stringify({ loaded, native }));`;
  const out = execFileSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], { cwd: ROOT, encoding: "utf8" });
  const { loaded, native } = JSON.parse(out.trim().split("\n").pop()!) as { loaded: string[]; native: string[] };
  const relative = loaded.map((file) => path.relative(ROOT, file));
  return {
    files: relative.filter((file) => file.startsWith("registry-service/")),
    packages: [
      ...new Set(
        relative
          .filter((file) => file.startsWith("node_modules/"))
          .map((file) =>
            file
              .split("/")
              .slice(1, file.split("/")[1].startsWith("@") ? 3 : 2)
              .join("/"),
          ),
      ),
    ],
    nativeAddons: native,
  };
}

describe("verifier SDK: what a bank's process loads", function () {
  this.timeout(60_000);

  it("loads the core, read-only chain access and the wire schemas, and no service code, storage, HTTP server, native addon or worker", () => {
    const { files, packages, nativeAddons } = footprint("./registry-service/src/verifier");
    const folders = [...new Set(files.map((file) => file.split("/")[2]))].sort();
    expect(folders).to.deep.equal(["chain", "core", "verifier", "wire"]);
    expect(files.filter((file) => file.includes("/chain/") && !file.includes("/chain/read/"))).to.deep.equal([]);
    for (const forbidden of ["level", "classic-level", "fastify", "secp256k1", "pg", "prom-client"])
      expect(packages).to.not.include(forbidden);
    expect(nativeAddons).to.deep.equal([]);
    expect(files.some((file) => file.includes("keccakWorker") || file.includes("parallelHasher"))).to.equal(false);
  });

  it("while the service's process does load them (the check above can fail)", () => {
    const { packages, nativeAddons } = footprint("./registry-service/src/service/server");
    expect(packages).to.include.members(["level", "fastify", "secp256k1"]);
    expect(nativeAddons.length).to.be.greaterThan(0);
  });
});
