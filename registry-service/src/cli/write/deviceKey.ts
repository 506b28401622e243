import type { Command } from "commander";
import { jsonOption, print } from "../options";
import { deviceKeyHashValue } from "./values";

/** mobile-id device-key-hash: what an operator keeps per enrolled phone, and what ISSUE and LOCK_DEVICE carry (docs/spec.md 4.5). */
export function deviceKeyHashCommand(program: Command): void {
  jsonOption(program.command("device-key-hash"))
    .description("the device key hash of a phone's P-256 public key, as issuers, operators and verifiers compute it")
    .argument("<key>", "a JWK file, or SEC1 hex")
    .action((key: string, options: { json?: boolean }) => {
      const deviceKeyHash = deviceKeyHashValue(key);
      print(options.json, { deviceKeyHash }, deviceKeyHash);
    });
}
