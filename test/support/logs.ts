import { createLogger } from "../../registry-service/src/service/logger";
import type { LogLevel } from "../../registry-service/src/service/config";

/** The service's logger for tests that read none of it. */
export const silentLog = () => createLogger({ level: "silent" });

/** The service's logger (its redaction and error format) at `level`, writing its JSON lines into memory. */
export function capturedLog(level: LogLevel = "trace") {
  let text = "";
  const logger = createLogger({ level, destination: { write: (chunk: string) => void (text += chunk) } });
  const lines = () =>
    text
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown> & { level: number; msg: string });
  return { logger, text: () => text, lines };
}
