import { readFileSync } from "node:fs";
import { isAddress } from "ethers";
import { Type, type Static } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import type { LevelWithSilent } from "pino";
import { DEFAULT_BATCH_POLICY, policyProblem, type BatchPolicy } from "../intake";
import { MAX_UNSETTLED_BATCHES } from "../journal";
import { StartupError } from "./startup";

const Int = (minimum: number, fallback: number, description: string) => Type.Integer({ minimum, default: fallback, description });

/** pino's levels, from the quietest that still logs to the most verbose; "silent" logs nothing. */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const satisfies readonly LevelWithSilent[];
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Every setting the service reads, from environment variables; defaults documented here and in the README. */
export const ConfigSchema = Type.Object({
  RPC_URL: Type.String({ pattern: "^https?://", default: "http://127.0.0.1:8545", description: "JSON-RPC URL of any EVM node" }),
  REGISTRY_ADDRESS: Type.String({ pattern: "^0x[0-9a-fA-F]{40}$", description: "StatusRegistry address" }),
  PUBLISHER_KEY: Type.Optional(
    Type.String({
      pattern: "^0x[0-9a-fA-F]{64}$",
      description: "private key holding PUBLISHER_ROLE (or PUBLISHER_SIGNER_URL and PUBLISHER_ADDRESS: the key stays in a remote signer)",
    }),
  ),
  PUBLISHER_SIGNER_URL: Type.Optional(
    Type.String({
      pattern: "^https?://",
      description:
        "JSON-RPC remote signer holding the publisher's key (Web3Signer eth1 mode): eth_signTransaction; instead of PUBLISHER_KEY",
    }),
  ),
  PUBLISHER_ADDRESS: Type.Optional(
    Type.String({
      pattern: "^0x[0-9a-fA-F]{40}$",
      description: "the remote signer's account holding PUBLISHER_ROLE (with PUBLISHER_SIGNER_URL)",
    }),
  ),
  CONSOLE_RPC_URL: Type.Optional(
    Type.String({
      pattern: "^https?://",
      description: "the chain node the web console's pages ask from the browser (default: RPC_URL without user and password)",
    }),
  ),
  HOST: Type.String({ default: "127.0.0.1" }),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: "HTTP port (0: the system picks a free one)" }),
  DATA_DIR: Type.String({
    default: "./data/service",
    description: "LevelDB directory (with JOURNAL_URL: only this instance's tree snapshot)",
  }),
  JOURNAL_URL: Type.Optional(
    Type.String({
      pattern: "^postgres(ql)?://",
      description:
        "postgres://user:password@host:port/database: the journal in PostgreSQL, shared by two or more instances, one leading (docs/failover.md); unset: LevelDB in DATA_DIR",
    }),
  ),
  JOURNAL_PASSWORD_FILE: Type.Optional(
    Type.String({ minLength: 1, description: "file holding the database password for JOURNAL_URL (a secret kept out of the environment)" }),
  ),
  LEASE_MS: Int(
    300,
    3000,
    "with JOURNAL_URL: how long the leader's lease lasts unrenewed (renewed every third of it): a standby takes over about this long after the leader stops",
  ),
  BATCH_INTERVAL_MS: Int(50, DEFAULT_BATCH_POLICY.maxAgeMs, "longest a batch waits before it is anchored"),
  BATCH_MAX_EVENTS: Int(1, DEFAULT_BATCH_POLICY.maxEvents, "events per batch"),
  BATCH_MAX_BYTES: Int(1024, DEFAULT_BATCH_POLICY.maxBytes, "anchor calldata bytes per batch"),
  MAX_BACKLOG: Int(
    1,
    DEFAULT_BATCH_POLICY.maxBacklog,
    "accepted, unanchored submissions before intake answers 503 (never to locks, suspensions, revocations)",
  ),
  MAX_BACKLOG_EVENTS: Int(
    1,
    DEFAULT_BATCH_POLICY.maxBacklogEvents,
    "their events: the same pushback, so that anchoring keeps up with a sustained bulk load (the last acknowledged issuance waits about this many events' anchoring)",
  ),
  PRIORITY_RESERVE_PERCENT: Type.Integer({
    minimum: 0,
    maximum: 90,
    default: DEFAULT_BATCH_POLICY.priorityReserve * 100,
    description: "share of each batch kept for locks, suspensions and revocations",
  }),
  CONFIRMATIONS: Int(1, 1, "blocks an anchor waits for"),
  ANCHORS_IN_FLIGHT: Type.Integer({
    minimum: 1,
    maximum: MAX_UNSETTLED_BATCHES,
    default: 4,
    description: "anchors sent and not yet confirmed at once (1: each batch waits for the previous anchor's block)",
  }),
  HEARTBEAT_SECONDS: Int(
    0,
    60,
    "longest the current root goes unconfirmed on chain while nothing is anchored (0: no heartbeat); verifiers refuse a root not confirmed for ROOT_STALE",
  ),
  MIN_DEADLINE_SECONDS: Int(1, DEFAULT_BATCH_POLICY.minDeadlineSeconds, "how far ahead a signed deadline must be at least"),
  MAX_DEADLINE_SECONDS: Int(60, DEFAULT_BATCH_POLICY.maxDeadlineSeconds, "how far ahead a signed deadline may be at most"),
  ROLES_MAX_AGE_SECONDS: Int(1, 30, "how long intake goes on with the roles last read while the chain cannot be read"),
  VERIFIER_REQUESTS_PER_MINUTE: Int(1, 600_000, "rate limit per client on the verifier routes"),
  CLIENT_SUBMISSIONS_PER_MINUTE: Int(1, 120_000, "submissions per client address per minute, refused before any work"),
  SIGNER_SUBMISSIONS_PER_MINUTE: Int(1, 120_000, "submissions per signing key per minute"),
  OPERATOR_LOCKS_PER_MINUTE: Int(1, 1_000, "lost-device locks per operator per minute; over it: 429 and an alarm (docs/runbook.md)"),
  LIST_SIGNING_KEY: Type.Optional(
    Type.String({
      minLength: 1,
      description: "file holding the issuer's list-signing key (a private EC P-256 JWK); unset: no status lists are published",
    }),
  ),
  LISTS_BASE_URL: Type.Optional(
    Type.String({
      pattern: "^https?://[^/]+(/.*[^/])?$",
      description: "public base URL of the lists (their sub and id), no trailing slash; default: this service's URL",
    }),
  ),
  LIST_ISSUER: Type.Optional(
    Type.String({ minLength: 1, description: "issuer of the W3C status list credentials; default: LISTS_BASE_URL" }),
  ),
  LIST_TTL_SECONDS: Int(1, 10, "how long a consumer may cache a list (ttl, Cache-Control max-age): keep it below verifiers' root age"),
  LIST_VALIDITY_SECONDS: Int(60, 300, "how long a signed list is valid (exp - iat)"),
  LIST_COMPRESSION_LEVEL: Type.Integer({
    minimum: 1,
    maximum: 9,
    default: 6,
    description: "zlib/gzip level of the lists (9: 17 % smaller, 10 times slower)",
  }),
  BODY_LIMIT_BYTES: Int(1024, 4_194_304, "largest request body (a 10,000-event submission is about 3 MB)"),
  // a pattern, not a union of literals, so that a bad value is refused with the values allowed
  LOG_LEVEL: Type.Unsafe<LogLevel>(
    Type.String({ pattern: `^(${LOG_LEVELS.join("|")})$`, default: "info", description: "least severe level logged" }),
  ),
});
export type Config = Static<typeof ConfigSchema>;

/** Validated configuration; throws a StartupError, one line naming every bad or missing setting. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw = Object.fromEntries(
    Object.keys(ConfigSchema.properties)
      .filter((k) => env[k] !== undefined)
      .map((k) => [k, env[k]]),
  );
  const value = Value.Convert(ConfigSchema, Value.Default(ConfigSchema, raw));
  const errors = [...Value.Errors(ConfigSchema, value)].map((e) => `${e.path.slice(1) || "config"}: ${e.message}`);
  if (errors.length > 0) throw invalid([...new Set(errors)].join("; "));
  if (!isAddress((value as Config).REGISTRY_ADDRESS))
    throw invalid(
      "REGISTRY_ADDRESS: its mixed case is not its EIP-55 checksum (a mistyped letter?): copy it again, or write it in lower case",
    );
  const publisher = publisherProblem(value as Config);
  if (publisher) throw invalid(publisher);
  const problem = policyProblem(batchPolicy(value as Config));
  if (problem) throw invalid(`BATCH_MAX_EVENTS, BATCH_MAX_BYTES, PRIORITY_RESERVE_PERCENT: ${problem}`);
  return value as Config;
}

/** The publisher is either a key (PUBLISHER_KEY) or a remote signer (PUBLISHER_SIGNER_URL with PUBLISHER_ADDRESS), never both. */
function publisherProblem(config: Config): string | undefined {
  const remote = config.PUBLISHER_SIGNER_URL !== undefined || config.PUBLISHER_ADDRESS !== undefined;
  if (config.PUBLISHER_KEY !== undefined && remote)
    return "PUBLISHER_KEY, PUBLISHER_SIGNER_URL: set either the key or the remote signer (with PUBLISHER_ADDRESS), not both";
  if (config.PUBLISHER_KEY === undefined && !remote)
    return "PUBLISHER_KEY: required (or PUBLISHER_SIGNER_URL and PUBLISHER_ADDRESS for a remote signer)";
  if (remote && (config.PUBLISHER_SIGNER_URL === undefined || config.PUBLISHER_ADDRESS === undefined))
    return `${config.PUBLISHER_ADDRESS === undefined ? "PUBLISHER_ADDRESS" : "PUBLISHER_SIGNER_URL"}: required with the other for a remote signer`;
  return undefined;
}

const invalid = (problems: string) => new StartupError("INVALID_SETTING", `invalid configuration: ${problems}`);

/**
 * The settings as logged at start: the publisher key redacted (the logger redacts it too), the RPC
 * URL as its origin (credentials in it, or an API key in its path, are secrets as well).
 */
export function loggedConfig(config: Config) {
  const signer = config.PUBLISHER_SIGNER_URL && new URL(config.PUBLISHER_SIGNER_URL).origin;
  const key = config.PUBLISHER_KEY && "[redacted]";
  return {
    ...config,
    PUBLISHER_KEY: key,
    PUBLISHER_SIGNER_URL: signer,
    RPC_URL: new URL(config.RPC_URL).origin,
    JOURNAL_URL: config.JOURNAL_URL && withoutPassword(config.JOURNAL_URL),
    CONSOLE_RPC_URL: consoleRpcUrl(config),
  };
}

/** JOURNAL_URL with the password of JOURNAL_PASSWORD_FILE (its one line) when that is set. */
export function journalUrl(config: Config): string {
  const url = new URL(config.JOURNAL_URL!);
  if (config.JOURNAL_PASSWORD_FILE) {
    try {
      url.password = encodeURIComponent(readFileSync(config.JOURNAL_PASSWORD_FILE, "utf8").trim());
    } catch (error) {
      throw new StartupError("INVALID_SETTING", `JOURNAL_PASSWORD_FILE: ${(error as Error).message}`);
    }
  }
  return url.href;
}

/** A database URL as logged: its password redacted. */
function withoutPassword(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = "[redacted]";
  return parsed.href;
}

/** The chain node URL the console's pages are given (public: they show it): CONSOLE_RPC_URL, else RPC_URL without credentials. */
export function consoleRpcUrl(config: Config): string {
  if (config.CONSOLE_RPC_URL) return config.CONSOLE_RPC_URL;
  const url = new URL(config.RPC_URL);
  url.username = "";
  url.password = "";
  return url.href;
}

/** The batch policy the settings give (docs: intake/batchPolicy.ts). */
export function batchPolicy(config: Config): BatchPolicy {
  return {
    maxEvents: config.BATCH_MAX_EVENTS,
    maxBytes: config.BATCH_MAX_BYTES,
    maxAgeMs: config.BATCH_INTERVAL_MS,
    maxBacklog: config.MAX_BACKLOG,
    maxBacklogEvents: config.MAX_BACKLOG_EVENTS,
    priorityReserve: config.PRIORITY_RESERVE_PERCENT / 100,
    minDeadlineSeconds: config.MIN_DEADLINE_SECONDS,
    maxDeadlineSeconds: config.MAX_DEADLINE_SECONDS,
  };
}

/** The HTTP limits the settings give. */
export function httpLimits(config: Config) {
  return {
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    verifierRequestsPerMinute: config.VERIFIER_REQUESTS_PER_MINUTE,
    clientSubmissionsPerMinute: config.CLIENT_SUBMISSIONS_PER_MINUTE,
    signerSubmissionsPerMinute: config.SIGNER_SUBMISSIONS_PER_MINUTE,
  };
}
