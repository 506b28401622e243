import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { parse } from "csv-parse/sync";
import { CliError, usageError } from "../../errors";
import { buildEvent, kebab, KIND_FIELDS, KINDS, type BuiltEvent, type EventFields, type KindName } from "../events";

/** One event of a bulk file: where it is, what it asks for, and the event built from it (salts generated where missing). */
export interface BulkLine {
  line: number;
  kind: KindName;
  fields: EventFields;
  built: BuiltEvent;
}

/** The columns (CSV) or keys (NDJSON) a bulk file may use: kind, then every kind's values in the CLI's names. */
const COLUMNS = new Map<string, keyof EventFields | "kind">([
  ["kind", "kind"],
  ...[...new Set(Object.values(KIND_FIELDS).flat())].map((field) => [kebab(field), field] as [string, keyof EventFields]),
]);

export const BULK_FORMAT_HELP = `
A bulk file is CSV with a header row, or NDJSON (one JSON object a line; .ndjson or .jsonl), one event
per row. Columns (keys): kind, then that kind's values, named as the single commands' options; an
empty cell is an absent value:
  kind=issue      device-key (SEC1 hex) or device-key-hash, credential-id, [salt], [channel]
  kind=reissue    index (the ID it supersedes), then as issue
  kind=suspend    index, reason        kind=reinstate  index, reason        kind=revoke  index, reason
  kind=lock       grant (the device's lock grant to this operator, hex: mobile-id device-grant)
Channels: chip-card (default), qr-code, online-portal. Reasons: lost-device, holder-request,
key-compromise, administrative. A missing salt is generated; every salt and index is in the
output and in the state file. After an interruption, run the same command again: it resends what
it had signed (never applied twice) and goes on. Exit code 1 when a submission was refused (its
lines and code are printed).`;

/** The events of a bulk file, every line checked before anything is signed; a bad line is a usage error naming it. */
export function readBulkFile(file: string): { lines: BulkLine[]; sha256: string } {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw usageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const rows = /\.(nd)?jsonl?$/i.test(file) || text.trimStart().startsWith("{") ? ndjsonRows(text, file) : csvRows(text, file);
  const lines = rows.map(({ line, row }) => {
    try {
      return bulkLine(line, row);
    } catch (error) {
      if (error instanceof CliError) throw usageError(`${file} line ${line}: ${error.message}`);
      throw error;
    }
  });
  if (lines.length === 0) throw usageError(`${file} holds no event`);
  return { lines, sha256: createHash("sha256").update(text).digest("hex") };
}

type Row = { line: number; row: Record<string, unknown> };

function csvRows(text: string, file: string): Row[] {
  try {
    const records = parse(text, { bom: true, columns: true, skip_empty_lines: true, trim: true, info: true }) as {
      record: Record<string, string>;
      info: { lines: number };
    }[];
    return records.map(({ record, info }) => ({ line: info.lines, row: record }));
  } catch (error) {
    throw usageError(`${file} is not CSV with a header row: ${(error as Error).message}`);
  }
}

function ndjsonRows(text: string, file: string): Row[] {
  return text.split("\n").flatMap((content, i) => {
    if (!content.trim()) return [];
    try {
      return [{ line: i + 1, row: JSON.parse(content) as Record<string, unknown> }];
    } catch (error) {
      throw usageError(`${file} line ${i + 1} is not JSON: ${(error as Error).message}`);
    }
  });
}

function bulkLine(line: number, row: Record<string, unknown>): BulkLine {
  const fields: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(row)) {
    const field = COLUMNS.get(column);
    if (!field) throw usageError(`unknown column "${column}" (known: ${[...COLUMNS.keys()].join(", ")})`);
    if (value !== "" && value !== null && value !== undefined) fields[field] = typeof value === "number" ? String(value) : value;
  }
  const kind = String(fields.kind ?? "");
  if (!Object.prototype.hasOwnProperty.call(KINDS, kind)) throw usageError(`kind "${kind}" is not one of ${Object.keys(KINDS).join(", ")}`);
  delete fields.kind;
  return { line, kind: kind as KindName, fields: fields as EventFields, built: buildEvent(kind as KindName, fields as EventFields) };
}
