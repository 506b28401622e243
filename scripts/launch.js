// Runs one of the package's entry points (a module under registry-service/src and the function it
// exports). In a development checkout (the sources and ts-node both there) it runs the sources, so a
// stale build is never what a test exercises; in an installed package, or after
// `npm prune --omit=dev`, it runs the build in dist/.
const path = require("node:path");
const { existsSync } = require("node:fs");

const root = path.join(__dirname, "..");

function resolvable(request) {
  try {
    require.resolve(request);
    return true;
  } catch {
    return false;
  }
}

module.exports = function launch(name, entry, exportName) {
  const sources = path.join(root, "registry-service", "src", `${entry}.ts`);
  const built = path.join(root, "dist", "registry-service", "src", `${entry}.js`);
  if (existsSync(sources) && resolvable("ts-node/register")) {
    process.env.TS_NODE_TRANSPILE_ONLY ??= "1";
    process.env.TS_NODE_PROJECT ??= path.join(root, "tsconfig.json");
    require("ts-node/register");
    require(sources)[exportName]();
  } else if (existsSync(built)) {
    require(built)[exportName]();
  } else {
    process.stderr.write(`${name}: not built: run npm run build first\n`);
    process.exitCode = 2;
  }
};
