#!/usr/bin/env node
// The mobile-id CLI (registry-service/src/cli/main.ts), run from the TypeScript sources.
process.env.TS_NODE_TRANSPILE_ONLY ??= "1";
process.env.TS_NODE_PROJECT ??= require("node:path").join(__dirname, "..", "tsconfig.json");
require("ts-node/register");
require("../registry-service/src/cli/main").main();
