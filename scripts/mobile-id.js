#!/usr/bin/env node
// The mobile-id CLI (registry-service/src/cli/main.ts). In a development checkout (the sources and
// ts-node both there) it runs the sources, so a stale build is never what a test exercises; in an
// installed package, or after `npm prune --omit=dev`, it runs the build in dist/.
const path = require("node:path");
const { existsSync } = require("node:fs");

const root = path.join(__dirname, "..");
const sources = path.join(root, "registry-service", "src", "cli", "main.ts");
const built = path.join(root, "dist", "registry-service", "src", "cli", "main.js");

function resolvable(request) {
  try {
    require.resolve(request);
    return true;
  } catch {
    return false;
  }
}

if (existsSync(sources) && resolvable("ts-node/register")) {
  process.env.TS_NODE_TRANSPILE_ONLY ??= "1";
  process.env.TS_NODE_PROJECT ??= path.join(root, "tsconfig.json");
  require("ts-node/register");
  require(sources).main();
} else if (existsSync(built)) {
  require(built).main();
} else {
  process.stderr.write("mobile-id: not built: run npm run build first\n");
  process.exitCode = 2;
}
