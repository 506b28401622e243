import { closeSync, fsyncSync, openSync, renameSync, writeSync } from "node:fs";
import path from "node:path";

/**
 * Replaces `file` with `text` so that a crash leaves the old or the new content, never a torn
 * mix: written beside it, synced, renamed over it, and the rename synced with its directory.
 */
export function writeFileDurably(file: string, text: string, mode = 0o644): void {
  const temporary = `${file}.${process.pid}.tmp`;
  const fd = openSync(temporary, "w", mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
  const directory = openSync(path.dirname(path.resolve(file)), "r");
  try {
    fsyncSync(directory);
  } finally {
    closeSync(directory);
  }
}
