import pino, { type DestinationStream, type Logger } from "pino";
import pretty from "pino-pretty";
import type { LogLevel } from "./config";

export type { Logger } from "pino";

/**
 * Never written, whatever is logged: the publisher key (the configuration is logged at start) and
 * request bodies (they carry holders' references and signatures). Fastify logs no bodies; this is
 * the net under a future log line that would.
 */
const REDACTED = ["PUBLISHER_KEY", "config.PUBLISHER_KEY", "body", "req.body"];

/** Messages longer than this are cut: a node's error can quote a whole signed anchor transaction. */
const MAX_MESSAGE_CHARS = 500;

export interface LoggerOptions {
  level: LogLevel;
  /** human-readable lines (pino-pretty) instead of JSON: npm start on a terminal */
  pretty?: boolean;
  /** where lines go: standard output unless given (tests capture them) */
  destination?: DestinationStream;
}

/** The service's logger: JSON lines (pino), at `level` and above, with secrets and bodies redacted. */
export function createLogger({ level, pretty: human = false, destination }: LoggerOptions): Logger {
  const options = { level, redact: { paths: REDACTED, censor: "[redacted]" }, serializers: { err: loggedError } };
  // synchronous: a fatal line is written before the process exits
  const stream = human
    ? pretty({ destination: destination ?? 1, sync: true, ignore: "pid,hostname", translateTime: "SYS:HH:MM:ss.l" })
    : destination;
  return stream ? pino(options, stream) : pino(options);
}

/**
 * An error as logged: type, code, message, stack frames and cause, and nothing else. Not the other
 * fields ethers attaches (a failed anchor's transaction with the batch's submissions in its
 * calldata), nor the message repeated on the stack's first line.
 */
export function loggedError(error: unknown): object {
  if (!(error instanceof Error)) return { message: String(error).slice(0, MAX_MESSAGE_CHARS) };
  const { code, shortMessage } = error as Error & { code?: unknown; shortMessage?: string };
  const frames = (error.stack ?? "").split("\n").filter((line) => line.trimStart().startsWith("at "));
  return {
    type: error.name,
    code,
    message: (shortMessage ?? error.message).slice(0, MAX_MESSAGE_CHARS),
    stack: frames.join("\n"),
    cause: error.cause === undefined ? undefined : loggedError(error.cause),
  };
}
