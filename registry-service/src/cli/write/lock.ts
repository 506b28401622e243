import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { parse } from "csv-parse/sync";
import type { Hex } from "../../core";
import { CliError, usageError } from "../errors";
import { print } from "../options";
import { buildEvent } from "./events";
import { hash32 } from "./values";
import { reportText, writeOptions, Writer, type WriteOptions, type WriteReport } from "./writer";

interface LockOptions extends WriteOptions {
  deviceKeyHash?: string;
  deviceKey?: string;
  line?: string;
  bindings?: string;
}

/** A line (phone number) in E.164 form, +<country code><number>, from how people write it ("+372 5123 4567", "00372-51234567"). */
export function e164(line: string): string {
  const compact = line.replace(/[\s().\-/]/g, "");
  const digits = compact.startsWith("+") ? compact.slice(1) : compact.startsWith("00") ? compact.slice(2) : undefined;
  if (digits === undefined || !/^[1-9][0-9]{1,14}$/.test(digits))
    throw usageError(`line "${line}" is not an international number (+ or 00, then the country code; at most 15 digits)`);
  return `+${digits}`;
}

/**
 * The device key hashes enrolled on `line` in the operator's bindings file: a CSV with the columns
 * `line` and `device-key-hash`, one row per enrolled device (docs/spec.md 4.5, "The telecom path").
 */
export function devicesOnLine(bindingsFile: string, line: string): Hex[] {
  const wanted = e164(line);
  let rows: Record<string, string>[];
  try {
    rows = parse(readFileSync(bindingsFile, "utf8"), { bom: true, columns: true, skip_empty_lines: true, trim: true });
  } catch (error) {
    throw usageError(`the bindings file ${bindingsFile} cannot be read as CSV: ${(error as Error).message}`);
  }
  const devices = rows.flatMap((row, i) => {
    if (row.line === undefined || row["device-key-hash"] === undefined)
      throw usageError(`${bindingsFile}: the columns must be line and device-key-hash`);
    const where = `${bindingsFile} row ${i + 2}`;
    return e164(row.line) === wanted ? [hash32(row["device-key-hash"], `${where}: device-key-hash`)] : [];
  });
  if (devices.length === 0) throw usageError(`no device is enrolled on ${wanted} in ${bindingsFile}`);
  return [...new Set(devices)];
}

/** Refused locks of a line: each device's own, so that one device with no live ID does not keep the others unlocked. */
interface LockRefusal {
  deviceKeyHash: Hex;
  refused: { code?: string; message: string };
}

export function lockCommand(program: Command): void {
  writeOptions(program.command("lock"))
    .description("an operator's lost-phone lock: suspends (LOST_DEVICE) the ID bound to a device, or every device enrolled on a line")
    .option("--device-key-hash <hex>", "the device's key hash")
    .option("--device-key <file|hex>", "or the device's P-256 public key (JWK file or SEC1 hex)")
    .option("--line <phone number>", "or a subscriber line: locks every device enrolled on it (with --bindings)")
    .option("--bindings <csv>", "the operator's bindings: columns line, device-key-hash")
    .action(async (options: LockOptions) => {
      const ways = [options.deviceKeyHash, options.deviceKey, options.line].filter((way) => way !== undefined);
      if (ways.length !== 1) throw usageError("give one of --device-key-hash, --device-key, or --line with --bindings");
      if (Boolean(options.line) !== Boolean(options.bindings)) throw usageError("--line and --bindings go together");
      if (options.line) return lockLine(options, options.line, options.bindings!);
      const { event } = buildEvent("lock", { deviceKeyHash: options.deviceKeyHash, deviceKey: options.deviceKey });
      const report = await (await Writer.open(options)).write("lock", [event]);
      print(options.json, report, reportText(report));
    });
}

async function lockLine(options: LockOptions, line: string, bindings: string): Promise<void> {
  const devices = devicesOnLine(bindings, line);
  const writer = await Writer.open(options);
  const locks: (WriteReport | LockRefusal)[] = [];
  for (const deviceKeyHash of devices) {
    try {
      locks.push(await writer.write("lock", [buildEvent("lock", { deviceKeyHash }).event]));
    } catch (error) {
      if (!(error instanceof CliError) || error.code !== "REFUSED") throw error;
      locks.push({ deviceKeyHash, refused: { code: error.serviceCode, message: error.message } });
    }
  }
  const text = locks.map((lock) => ("refused" in lock ? `device ${lock.deviceKeyHash}: ${lock.refused.message}` : reportText(lock)));
  print(options.json, { line: e164(line), locks }, [`${e164(line)}: ${devices.length} device(s) enrolled`, ...text].join("\n"));
  if (locks.some((lock) => "refused" in lock)) process.exitCode = 1;
}
