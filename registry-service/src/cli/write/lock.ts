import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { parse } from "csv-parse/sync";
import { CliError, usageError } from "../errors";
import { print } from "../options";
import { buildEvent } from "./events";
import { reportText, writeOptions, Writer, type WriteOptions, type WriteReport } from "./writer";

interface LockOptions extends WriteOptions {
  grant?: string;
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
 * The lock grants of the devices enrolled on `line` in the operator's bindings file: a CSV with the
 * columns `line` and `grant`, one row per enrolled device, the grant its wallet signed at enrolment
 * (docs/spec.md 4.5, "The telecom path", and 4.6).
 */
export function grantsOnLine(bindingsFile: string, line: string): string[] {
  const wanted = e164(line);
  let rows: Record<string, string>[];
  try {
    rows = parse(readFileSync(bindingsFile, "utf8"), { bom: true, columns: true, skip_empty_lines: true, trim: true });
  } catch (error) {
    throw usageError(`the bindings file ${bindingsFile} cannot be read as CSV: ${(error as Error).message}`);
  }
  const grants = rows.flatMap((row) => {
    if (row.line === undefined || row.grant === undefined) throw usageError(`${bindingsFile}: the columns must be line and grant`);
    return e164(row.line) === wanted ? [row.grant.toLowerCase()] : [];
  });
  if (grants.length === 0) throw usageError(`no device is enrolled on ${wanted} in ${bindingsFile}`);
  return [...new Set(grants)];
}

/** Refused locks of a line: each device's own, so that one device with no live ID does not keep the others unlocked. */
interface LockRefusal {
  deviceKeyHash: string;
  refused: { code?: string; message: string };
}

export function lockCommand(program: Command): void {
  writeOptions(program.command("lock"))
    .description("an operator's lost-phone lock: suspends (LOST_DEVICE) the ID bound to a device that granted this operator its lock")
    .option("--grant <hex|file>", "the device's lock grant (mobile-id device grant), which names the device")
    .option("--line <phone number>", "or a subscriber line: locks every device enrolled on it (with --bindings)")
    .option("--bindings <csv>", "the operator's bindings: columns line, grant")
    .action(async (options: LockOptions) => {
      if ((options.grant === undefined) === (options.line === undefined))
        throw usageError("give one of --grant, or --line with --bindings");
      if (Boolean(options.line) !== Boolean(options.bindings)) throw usageError("--line and --bindings go together");
      if (options.line) return lockLine(options, options.line, options.bindings!);
      const { event } = buildEvent("lock", { grant: options.grant });
      const report = await (await Writer.open(options)).write("lock", [event]);
      print(options.json, report, reportText(report));
    });
}

async function lockLine(options: LockOptions, line: string, bindings: string): Promise<void> {
  const events = grantsOnLine(bindings, line).map((grant) => buildEvent("lock", { grant }).event);
  const writer = await Writer.open(options);
  const locks: (WriteReport | LockRefusal)[] = [];
  for (const event of events) {
    try {
      locks.push(await writer.write("lock", [event]));
    } catch (error) {
      if (!(error instanceof CliError) || error.code !== "REFUSED") throw error;
      locks.push({ deviceKeyHash: event.deviceKeyHash, refused: { code: error.serviceCode, message: error.message } });
    }
  }
  const text = locks.map((lock) => ("refused" in lock ? `device ${lock.deviceKeyHash}: ${lock.refused.message}` : reportText(lock)));
  print(options.json, { line: e164(line), locks }, [`${e164(line)}: ${events.length} device(s) enrolled`, ...text].join("\n"));
  if (locks.some((lock) => "refused" in lock)) process.exitCode = 1;
}
