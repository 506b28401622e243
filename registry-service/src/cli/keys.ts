import { existsSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { Writable } from "node:stream";
import { Option, type Command } from "commander";
import { Wallet } from "ethers";
import { CliError, usageError } from "./errors";
import { writeFileDurably } from "./durableFile";
import { jsonOption, print } from "./options";

export const PRIVATE_KEY_ENV = "MOBILE_ID_PRIVATE_KEY";
export const PASSWORD_ENV = "MOBILE_ID_KEYSTORE_PASSWORD";

/** Flags that would put a secret on the command line, where shell history and the process list keep it. */
const SECRET_FLAG = /^--(private[-_]?key|priv[-_]?key|secret[-_]?key|key|secret|mnemonic|seed|password)(=|$)/i;

/** Refuses any argument that passes a key or a password on the command line, before anything runs. */
export function refuseSecretArguments(args: readonly string[]): void {
  const flag = args.find((arg) => SECRET_FLAG.test(arg));
  if (flag)
    throw usageError(
      `${flag.split("=")[0]}: a key or password is never taken as an argument (shell history and the process list keep it); use --keystore <file> (password from ${PASSWORD_ENV} or a prompt) or the environment variable ${PRIVATE_KEY_ENV}`,
    );
}

/** --keystore: where a signing command takes its key from (else MOBILE_ID_PRIVATE_KEY). */
export const keyOptions = (command: Command): Command =>
  command.addOption(
    new Option("--keystore <file>", `encrypted JSON keystore (password from ${PASSWORD_ENV}, or a prompt on a terminal)`).env(
      "MOBILE_ID_KEYSTORE",
    ),
  );

/** The signing key: from the keystore when one is given, else from MOBILE_ID_PRIVATE_KEY. */
export async function loadWallet(options: { keystore?: string }): Promise<Wallet> {
  if (options.keystore) return openKeystore(options.keystore);
  const key = process.env[PRIVATE_KEY_ENV];
  if (!key)
    throw new CliError(
      "KEY_UNAVAILABLE",
      `no signing key: give --keystore <file> (mobile-id keystore create makes one) or set ${PRIVATE_KEY_ENV}`,
    );
  try {
    return new Wallet(key.startsWith("0x") ? key : `0x${key}`);
  } catch {
    throw new CliError("KEY_UNAVAILABLE", `${PRIVATE_KEY_ENV} is not a private key (32 bytes of hex)`);
  }
}

async function openKeystore(file: string): Promise<Wallet> {
  let json: string;
  try {
    json = readFileSync(file, "utf8");
  } catch (error) {
    throw new CliError("KEY_UNAVAILABLE", `cannot read the keystore ${file}: ${(error as Error).message}`);
  }
  const password = await keystorePassword(`password of ${file}: `);
  try {
    const wallet = await Wallet.fromEncryptedJson(json, password);
    return wallet instanceof Wallet ? wallet : new Wallet(wallet.privateKey);
  } catch (error) {
    throw new CliError("KEY_UNAVAILABLE", `the keystore ${file} does not open: ${(error as Error).message}`);
  }
}

/** The keystore password from MOBILE_ID_KEYSTORE_PASSWORD, or asked without echo when stdin is a terminal. */
async function keystorePassword(question: string, confirm = false): Promise<string> {
  const fromEnv = process.env[PASSWORD_ENV];
  if (fromEnv) return fromEnv;
  if (!process.stdin.isTTY) throw new CliError("KEY_UNAVAILABLE", `set ${PASSWORD_ENV}, or run on a terminal to be asked for the password`);
  const password = await askHidden(question);
  if (!password) throw new CliError("KEY_UNAVAILABLE", "an empty password protects nothing");
  if (confirm && (await askHidden("again: ")) !== password) throw new CliError("KEY_UNAVAILABLE", "the two passwords differ");
  return password;
}

/** One line read from the terminal without echoing it (readline writes its echo to a sink). */
async function askHidden(question: string): Promise<string> {
  process.stderr.write(question);
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  const reader = createInterface({ input: process.stdin, output: sink, terminal: true });
  const answer = await new Promise<string>((resolve) => reader.question("", resolve));
  reader.close();
  process.stderr.write("\n");
  return answer;
}

/** mobile-id keystore create: an encrypted keystore from MOBILE_ID_PRIVATE_KEY, or from a new random key. */
export function keystoreCommand(program: Command): void {
  const keystore = program.command("keystore").description("make an encrypted JSON keystore for the signing commands");
  jsonOption(keystore.command("create"))
    .description(`encrypt the key in ${PRIVATE_KEY_ENV} (or a new random key) into a keystore file`)
    .requiredOption("--out <file>", "keystore file to write (never overwritten)")
    .action(async (options: { out: string; json?: boolean }) => {
      if (existsSync(options.out)) throw usageError(`${options.out} exists: a keystore is never overwritten`);
      const generated = !process.env[PRIVATE_KEY_ENV];
      const wallet = generated ? Wallet.createRandom() : await loadWallet({});
      const password = await keystorePassword(`password for ${options.out}: `, true);
      writeFileDurably(options.out, await wallet.encrypt(password), 0o600);
      const source = generated ? "a new random key" : `the key in ${PRIVATE_KEY_ENV}`;
      print(
        options.json,
        { address: wallet.address, keystore: options.out, generated },
        `${options.out}: ${source}, address ${wallet.address}`,
      );
    });
}
