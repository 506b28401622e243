import { Type, type Static } from "@sinclair/typebox";

export const Hex32 = Type.String({ pattern: "^0x[0-9a-fA-F]{64}$", description: "32 bytes, 0x-prefixed hex" });
export const Hex65 = Type.String({ pattern: "^0x[0-9a-fA-F]{130}$", description: "65-byte r||s||v signature" });
export const Address = Type.String({ pattern: "^0x[0-9a-fA-F]{40}$" });
const Uint = (description: string, maximum = Number.MAX_SAFE_INTEGER) => Type.Integer({ minimum: 0, maximum, description });

/** One requested event; omitted fields are zero (docs/spec.md 4.1 says which a kind uses). */
export const EventBody = Type.Object(
  {
    kind: Type.Integer({ minimum: 1, maximum: 5, description: "1 ISSUE, 2 SUSPEND, 3 REINSTATE, 4 REVOKE, 5 LOCK_DEVICE" }),
    index: Type.Optional(Uint("status index (SUSPEND, REINSTATE, REVOKE)")),
    holderRef: Type.Optional(Hex32),
    credentialCommitment: Type.Optional(Hex32),
    deviceKeyHash: Type.Optional(Hex32),
    channel: Type.Optional(Uint("1 CHIP_CARD, 2 QR_CODE, 3 ONLINE_PORTAL (ISSUE)", 3)),
    reason: Type.Optional(Uint("reason code (SUSPEND, REVOKE)", 5)),
  },
  { additionalProperties: false },
);

export const SubmissionBody = Type.Object(
  {
    nonce: Hex32,
    events: Type.Array(EventBody, { minItems: 1, maxItems: 10_000 }),
    signature: Hex65,
  },
  { additionalProperties: false, description: "EIP-712 signed Submission (docs/spec.md 4.2)" },
);
export type SubmissionBody = Static<typeof SubmissionBody>;

export const StatusRecordSchema = Type.Object({
  index: Uint("status index"),
  credentialCommitment: Hex32,
  deviceKeyHash: Hex32,
  status: Type.Integer({ minimum: 0, maximum: 3, description: "0 NONE, 1 ACTIVE, 2 SUSPENDED, 3 REVOKED" }),
  reason: Uint("reason code", 5),
  batch: Uint("batch that last changed it"),
});

export const SubmissionResult = Type.Object({
  seq: Uint("journal sequence number"),
  batch: Uint("batch the submission joins"),
  signer: Address,
  duplicate: Type.Boolean({ description: "true when this (signer, nonce) was accepted before" }),
  applied: Type.Array(Type.Object({ kind: Uint("applied kind"), record: StatusRecordSchema })),
});

export const AnchorInfo = Type.Object({
  batch: Uint("anchored batch"),
  statusRoot: Hex32,
  transactionHash: Type.Union([Hex32, Type.Null()]),
  blockNumber: Type.Union([Uint("block"), Type.Null()]),
});

export const StatusResult = Type.Object({
  index: Uint("status index"),
  anchored: Type.Object({ record: StatusRecordSchema, proof: Type.Array(Hex32), anchor: AnchorInfo }),
  pending: Type.Union([StatusRecordSchema, Type.Null()], { description: "accepted, not yet anchored: a pending lock shows here" }),
});

export const ErrorBody = Type.Object({ code: Type.String(), message: Type.String() });
