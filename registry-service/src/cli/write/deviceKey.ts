import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { signLockGrant } from "../../core";
import { usageError } from "../errors";
import { address, integer, jsonOption, print } from "../options";
import { connectService, serviceOption } from "./service";
import { deviceKeyHashValue, grantValue } from "./values";

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

interface GrantOptions {
  deviceKey: string;
  operator: string;
  days: number;
  service: string;
  json?: boolean;
}

/**
 * mobile-id device-grant: the wallet's side of enrolling with an operator (docs/spec.md 4.6): the
 * phone signs, with its device key, that this operator may lock it. Here for tests, demos and
 * wallets' developers; a real wallet signs in its secure element.
 */
export function deviceGrantCommand(program: Command): void {
  jsonOption(serviceOption(program.command("device-grant")))
    .description("sign a phone's lock grant to its operator with the phone's private P-256 key (what a wallet does when it enrols)")
    .requiredOption("--device-key <file>", "the phone's private key: a P-256 JWK with d")
    .requiredOption("--operator <address>", "the operator's account that will sign the locks", address("--operator"))
    .option("--days <n>", "how long the grant holds", integer("--days"), 365)
    .action(async (options: GrantOptions) => {
      const privateKey = privateDeviceKey(options.deviceKey);
      const { domain } = await connectService(options.service);
      const notAfter = Math.floor(Date.now() / 1000) + options.days * 86_400;
      const grant = signLockGrant(privateKey, domain, options.operator, notAfter);
      const { deviceKeyHash } = grantValue(grant);
      print(options.json, { grant, deviceKeyHash, operator: options.operator, notAfter }, grant);
    });
}

/** The `d` of a private P-256 JWK file. */
function privateDeviceKey(file: string): Uint8Array {
  let jwk: { kty?: string; crv?: string; d?: string };
  try {
    jwk = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw usageError(`--device-key: ${file} is not a readable JWK file (${(error as Error).message})`);
  }
  if (jwk.kty !== "EC" || jwk.crv !== "P-256" || typeof jwk.d !== "string")
    throw usageError(`--device-key: ${file} is not a private P-256 JWK`);
  return Buffer.from(jwk.d, "base64url");
}
