#!/usr/bin/env node
// The registry service (registry-service/src/service/server.ts), configured by its environment (README, "The service").
require("./launch")("mobile-id-service", "service/server", "runServiceProcess");
