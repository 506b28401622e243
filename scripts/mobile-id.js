#!/usr/bin/env node
// The mobile-id CLI (registry-service/src/cli/main.ts): from the sources in a checkout, from dist/ when installed.
require("./launch")("mobile-id", "cli/main", "main");
