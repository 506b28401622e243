import { blankEvent, credentialCommitment, EventKind, type Hex, type StatusEvent } from "../../core";
import { usageError } from "../errors";
import { named } from "../options";
import { CHANNELS, deviceKeyHashValue, grantValue, hash32, indexValue, REASONS, saltValue } from "./values";

/** What a writer can ask for, by the CLI's names (the command names, the `kind` column of a bulk file). */
export const KINDS = {
  issue: EventKind.Issue,
  reissue: EventKind.Reissue,
  suspend: EventKind.Suspend,
  reinstate: EventKind.Reinstate,
  revoke: EventKind.Revoke,
  lock: EventKind.LockDevice,
} as const;
export type KindName = keyof typeof KINDS;

/** One event's values in the CLI's own names: the options of its command, the columns of a bulk file (kebab-case there). */
export interface EventFields {
  index?: string | number;
  deviceKey?: string | object;
  deviceKeyHash?: string;
  credentialId?: string;
  salt?: string;
  channel?: string;
  reason?: string;
  /** a lock's grant from the device (docs/spec.md 4.6): it names the device */
  grant?: string;
}
type Field = keyof EventFields;

/** The fields each kind takes; the others must be absent. */
export const KIND_FIELDS: Record<KindName, readonly Field[]> = {
  issue: ["deviceKey", "deviceKeyHash", "credentialId", "salt", "channel"],
  reissue: ["index", "deviceKey", "deviceKeyHash", "credentialId", "salt", "channel"],
  suspend: ["index", "reason"],
  reinstate: ["index", "reason"],
  revoke: ["index", "reason"],
  lock: ["grant"],
};

/** A new credential's values, which the issuer puts into the credential beside its status index. */
export interface IssuedCredential {
  credentialId: string;
  salt: Hex;
  saltGenerated: boolean;
  credentialCommitment: Hex;
  deviceKeyHash: Hex;
}

export interface BuiltEvent {
  event: StatusEvent;
  credential?: IssuedCredential;
}

/** The event `kind` asks for with these values; a missing, extra or bad value is a usage error naming it. */
export function buildEvent(kind: KindName, fields: EventFields): BuiltEvent {
  const given = (Object.keys(fields) as Field[]).filter((field) => present(fields[field]));
  const extra = given.find((field) => !KIND_FIELDS[kind].includes(field));
  if (extra) throw usageError(`${kebab(extra)} is not a value of ${kind} (it takes ${KIND_FIELDS[kind].map(kebab).join(", ")})`);
  const event = blankEvent(KINDS[kind]);
  if (KIND_FIELDS[kind].includes("index")) event.index = indexValue(required(fields, "index"));
  if (KIND_FIELDS[kind].includes("reason")) event.reason = named(REASONS, "reason", required(fields, "reason"));
  if (kind === "lock") Object.assign(event, grantValue(required(fields, "grant")));
  if (kind !== "issue" && kind !== "reissue") return { event };
  const credential = issuedCredential(fields);
  event.credentialCommitment = credential.credentialCommitment;
  event.deviceKeyHash = credential.deviceKeyHash;
  event.channel = named(CHANNELS, "channel", present(fields.channel) ? fields.channel : "chip-card");
  return { event, credential };
}

function issuedCredential(fields: EventFields): IssuedCredential {
  const credentialId = required(fields, "credentialId");
  const { salt, generated } = saltValue(fields.salt);
  let commitment: Hex;
  try {
    commitment = credentialCommitment(credentialId, salt);
  } catch (error) {
    throw usageError(`credential-id: ${(error as Error).message}`);
  }
  return { credentialId, salt, saltGenerated: generated, credentialCommitment: commitment, deviceKeyHash: deviceOf(fields) };
}

/** The device key hash, from the key itself or given as a hash: exactly one of the two. */
function deviceOf(fields: EventFields): Hex {
  const { deviceKey, deviceKeyHash } = fields;
  if (present(deviceKey) === present(deviceKeyHash)) throw usageError("give the device as device-key or as device-key-hash (one of them)");
  return present(deviceKey) ? deviceKeyHashValue(deviceKey) : hash32(deviceKeyHash as string, "device-key-hash");
}

function required<F extends "index" | "reason" | "credentialId" | "grant">(fields: EventFields, field: F): NonNullable<EventFields[F]> {
  const value = fields[field];
  if (!present(value)) throw usageError(`${kebab(field)} is required`);
  return value as NonNullable<EventFields[F]>;
}

function present<T>(value: T | undefined): value is T {
  return value !== undefined && value !== null && !(typeof value === "string" && value.trim() === "");
}

/** credentialId -> credential-id: how the option and the column are written. */
export const kebab = (field: string) => field.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
