import { Type, type Static, type TSchema } from "@sinclair/typebox";
import type { AppliedKind, Hex, Reason, Status } from "../core";

// The API's wire format, once: the routes validate and document with these schemas, the clients
// (the verifier SDK, the submission client) derive their types from them, and the SDK checks every
// answer against them. Types are derived (Static), never written a second time.

/** A schema whose static type is narrower than its JSON type (a hex string typed as Hex, a number as an enum). */
const typed = <T>(schema: TSchema) => Type.Unsafe<T>(schema);

/** 32 bytes as 0x-prefixed hex, described as what they are. */
const hex32 = (description = "32 bytes, 0x-prefixed hex") => typed<Hex>(Type.String({ pattern: "^0x[0-9a-fA-F]{64}$", description }));
export const Hex32 = hex32();
export const Hex65 = typed<Hex>(Type.String({ pattern: "^0x[0-9a-fA-F]{130}$", description: "65-byte r||s||v signature" }));
export const Address = typed<Hex>(Type.String({ pattern: "^0x[0-9a-fA-F]{40}$" }));
export const Uint = (description?: string, maximum = Number.MAX_SAFE_INTEGER) => Type.Integer({ minimum: 0, maximum, description });
/** A decimal number in a path or query string (no type coercion anywhere: they stay strings). */
export const DecimalString = (digits: number, description?: string) => Type.String({ pattern: `^[0-9]{1,${digits}}$`, description });

/** One requested event; omitted fields are zero (docs/spec.md 4.1 says which a kind uses). */
export const EventBody = Type.Object(
  {
    kind: Type.Integer({ minimum: 1, maximum: 6, description: "1 ISSUE, 2 SUSPEND, 3 REINSTATE, 4 REVOKE, 5 LOCK_DEVICE, 6 REISSUE" }),
    index: Type.Optional(Uint("status index (SUSPEND, REINSTATE, REVOKE; REISSUE: the credential it supersedes)")),
    credentialCommitment: Type.Optional(Hex32),
    deviceKeyHash: Type.Optional(Hex32),
    channel: Type.Optional(Uint("1 CHIP_CARD, 2 QR_CODE, 3 ONLINE_PORTAL (ISSUE, REISSUE)", 3)),
    reason: Type.Optional(Uint("reason code (SUSPEND, REVOKE)", 5)),
    grant: Type.Optional(
      typed<Hex>(
        Type.String({
          pattern: "^0x([0-9a-fA-F]{250})?$",
          description: "LOCK_DEVICE: the device's grant of its lock to the signing operator, 125 bytes (docs/spec.md 4.6)",
        }),
      ),
    ),
  },
  { additionalProperties: false },
);

export const SubmissionBody = Type.Object(
  {
    nonce: Hex32,
    deadline: Uint("unix time in seconds: the submission must be anchored in a block no later than this (signed)"),
    events: Type.Array(EventBody, { minItems: 1, maxItems: 10_000 }),
    signature: Hex65,
    domainHash: Type.Optional(
      hex32("the EIP-712 domain separator the client signed for (GET /v1/domain): another one is answered 400 DOMAIN_MISMATCH"),
    ),
  },
  { additionalProperties: false, description: "EIP-712 signed Submission (docs/spec.md 4.2)" },
);
export type SubmissionBody = Static<typeof SubmissionBody>;

/** A status record (docs/spec.md 2); its static type is the core's StatusRecord. */
export const StatusRecordSchema = Type.Object({
  index: Uint("status index"),
  credentialCommitment: Hex32,
  deviceKeyHash: Hex32,
  status: typed<Status>(Type.Integer({ minimum: 0, maximum: 3, description: "0 NONE, 1 ACTIVE, 2 SUSPENDED, 3 REVOKED" })),
  reason: typed<Reason>(Uint("reason code", 5)),
  batch: Uint("batch that last changed it"),
});

const AppliedKindSchema = typed<AppliedKind>(Uint("applied kind: 1 ISSUE .. 5 LOCK_DEVICE, 6 SUPERSEDE", 6));

export const SubmissionResult = Type.Object({
  seq: Uint("journal sequence number"),
  batch: Uint("batch the submission joins"),
  signer: Address,
  duplicate: Type.Boolean({ description: "true when this (signer, nonce) was accepted before" }),
  intakeBlock: Uint("the block at which the signer's role was checked; the anchor carries it and the audit checks the role there"),
  applied: Type.Array(Type.Object({ kind: AppliedKindSchema, record: StatusRecordSchema })),
});
export type SubmissionResult = Static<typeof SubmissionResult>;

/** The EIP-712 domain and the registry a client signs for. */
export const DomainAnswer = Type.Object({
  eip712: Type.Object({ name: Type.String(), version: Type.String(), chainId: Uint(), verifyingContract: Address }),
  domainHash: hex32("EIP-712 domain separator: send it as a submission's domainHash"),
  types: Type.Record(Type.String(), Type.Array(Type.Object({ name: Type.String(), type: Type.String() }))),
  primaryType: Type.Literal("Submission"),
  registry: Address,
  chainId: Uint(),
  depth: Uint("status tree depth: 2^depth status slots"),
  roles: Type.Record(Type.String(), Hex32, { description: "AccessControl role ids by name" }),
  deadlineWindowSeconds: Type.Object({ min: Uint(), max: Uint() }, { description: "the deadlines this service accepts, from now" }),
  submissionLimits: Type.Object(
    {
      regular: Type.Object({ events: Uint(), bytes: Uint() }),
      priority: Type.Object({ events: Uint(), bytes: Uint() }),
    },
    {
      description:
        "the most one submission may apply (events, a re-issue counting two) and add to an anchor's calldata (bytes, docs/spec.md 5.1); priority: submissions that only suspend, lock or revoke",
    },
  ),
});
export type DomainAnswer = Static<typeof DomainAnswer>;

/** Where one accepted submission stands: accepted, cut into a batch at positions, anchored in a transaction. */
export const SubmissionStatus = Type.Object({
  signer: Address,
  nonce: Hex32,
  seq: Uint("journal sequence number"),
  deadline: Uint(),
  intakeBlock: Uint(),
  state: Type.Union([Type.Literal("accepted"), Type.Literal("cut"), Type.Literal("anchored")], {
    description: "accepted: journalled, its batch not cut yet; cut: prepared and sent; anchored: on chain",
  }),
  batch: Uint("the batch it joins or joined"),
  positions: Type.Union([Type.Array(Uint()), Type.Null()], { description: "its events' positions in the batch's event tree, once cut" }),
  receipts: Type.Array(Type.String(), { description: "paths of its events' receipts, once cut" }),
  transactionHash: Type.Union([Hex32, Type.Null()]),
  blockNumber: Type.Union([Uint(), Type.Null()]),
  applied: Type.Array(Type.Object({ kind: AppliedKindSchema, record: StatusRecordSchema })),
});
export type SubmissionStatus = Static<typeof SubmissionStatus>;

export const AnchorInfo = Type.Object({
  batch: Uint("anchored batch"),
  statusRoot: Hex32,
  transactionHash: Type.Union([Hex32, Type.Null()]),
  blockNumber: Type.Union([Uint("block"), Type.Null()]),
});

/** One index's answer for verifiers: record and proof under the latest anchored root, and any pending change. */
export const StatusAnswer = Type.Object({
  index: Uint("status index"),
  anchored: Type.Object({ record: StatusRecordSchema, proof: Type.Array(Hex32), anchor: AnchorInfo }),
  pending: Type.Union([StatusRecordSchema, Type.Null()], { description: "accepted, not yet anchored: a pending lock shows here" }),
});
export type StatusAnswer = Static<typeof StatusAnswer>;

const BatchStateSchema = Type.Union([Type.Literal("prepared"), Type.Literal("anchored"), Type.Literal("struck")], {
  description: "struck: not this service's batch, the chain's last batch that a correction struck (docs/spec.md 5.5)",
});

export const BatchSummary = Type.Object({
  batch: Uint(),
  state: BatchStateSchema,
  previousRoot: Hex32,
  statusRoot: Hex32,
  eventRoot: Hex32,
  eventCount: Uint(),
  eventDataHash: Hex32,
  transactionHash: Type.Union([Hex32, Type.Null()]),
  blockNumber: Type.Union([Uint(), Type.Null()]),
  correction: Type.Optional(
    Type.Object(
      { base: Uint(), through: Uint() },
      { description: "a correction: it re-bases on batch `base`; the chain's batches base+1..through are struck" },
    ),
  ),
});
export type BatchSummary = Static<typeof BatchSummary>;

/** An applied event: a leaf of its batch's event tree. */
export const AppliedEventSchema = Type.Object({
  position: Uint(),
  kind: AppliedKindSchema,
  signer: Address,
  nonce: Hex32,
  record: StatusRecordSchema,
});

/** An event's proof of inclusion in its batch's event tree. */
export const EventReceipt = Type.Object({
  event: AppliedEventSchema,
  leaf: Hex32,
  proof: Type.Array(Hex32),
  eventRoot: Hex32,
  batch: BatchSummary,
});
export type EventReceipt = Static<typeof EventReceipt>;

export const ErrorBody = Type.Object({ code: Type.String(), message: Type.String() });
export type ErrorBody = Static<typeof ErrorBody>;

/** What the web console is told about where it runs: which server, which registry, which chain node to ask. */
export const ConsoleConfig = Type.Object({
  server: Type.Union([Type.Literal("service"), Type.Literal("mirror")], {
    description: "service: the issuer's registry service; mirror: a replay of the chain alone (no issuer's word)",
  }),
  chainId: Uint(),
  registry: Address,
  depth: Uint("status tree depth"),
  rpcUrl: Type.String({ description: "the chain node's JSON-RPC URL the browser asks (the page lets its user name another)" }),
});
export type ConsoleConfig = Static<typeof ConsoleConfig>;

/** One recent batch as the overview lists it; gas and time come from the chain's receipt and block. */
export const BatchLine = Type.Object({
  batch: Uint(),
  state: BatchStateSchema,
  eventCount: Uint(),
  statusRoot: Hex32,
  transactionHash: Type.Union([Hex32, Type.Null()]),
  blockNumber: Type.Union([Uint(), Type.Null()]),
  gasUsed: Type.Union([Type.String({ pattern: "^[0-9]+$", description: "gas the anchor used (decimal)" }), Type.Null()]),
  anchoredAt: Type.Union([Uint("the anchoring block's time, unix seconds"), Type.Null()]),
});
export type BatchLine = Static<typeof BatchLine>;

/** The registry at a glance: the latest anchor and its age, what waits, how fast it moves. */
export const Overview = Type.Object({
  server: ConsoleConfig.properties.server,
  chainId: Uint(),
  registry: Address,
  now: Uint("the server's clock, unix seconds (ages are computed against it)"),
  latest: Type.Union([BatchLine, Type.Null()], { description: "the latest anchored batch (null: none yet)" }),
  waiting: Type.Union([Uint(), Type.Null()], {
    description: "service: accepted submissions not yet anchored (the backlog); mirror: anchored batches not yet replayed",
  }),
  anchoringLagSeconds: Type.Number({
    minimum: 0,
    description: "how long work has waited: seconds since the latest anchor while something waits, else 0",
  }),
  eventsPerSecond: Type.Number({
    minimum: 0,
    description: "service: events accepted per second; mirror: events replayed per second (over the last minute)",
  }),
  recent: Type.Array(BatchLine, { description: "the latest batches, newest first" }),
});
export type Overview = Static<typeof Overview>;

/** A mirror's replay of the chain: how far it got and the first divergence it found. */
export const AuditProgress = Type.Object({
  batch: Uint("the last batch replayed cleanly"),
  latestBatch: Type.Union([Uint(), Type.Null()], { description: "the chain's latest batch (null: the chain did not answer)" }),
  headBlock: Type.Integer({ minimum: -1, description: "the last block read (-1: none yet)" }),
  events: Uint("events replayed"),
  statusRoot: Hex32,
  divergence: Type.Union(
    [
      Type.Object({
        code: Type.String(),
        batch: Uint(),
        transactionHash: Type.String(),
        message: Type.String(),
        expected: Type.Optional(Type.String()),
        computed: Type.Optional(Type.String()),
      }),
      Type.Null(),
    ],
    { description: "the first thing on the chain the replay does not reproduce: the mirror stopped serving" },
  ),
  chainError: Type.Union([Type.String(), Type.Null()], { description: "why the chain did not answer the last poll" }),
});
export type AuditProgress = Static<typeof AuditProgress>;
/** The anchor a published list derives from (docs/spec.md 7.2): what a verifier checks on its own chain node. */
export const ListAnchorSchema = Type.Object({
  batch: Uint("anchored batch"),
  statusRoot: Hex32,
  transactionHash: Type.Union([Hex32, Type.Null()], { description: "null for batch 0, recorded at deployment" }),
  blockNumber: Type.Union([Uint(), Type.Null()]),
  registry: Address,
  chainId: Uint(),
});
export type ListAnchorSchema = Static<typeof ListAnchorSchema>;

/** GET /v1/lists: every published list, and the anchor they are all derived from right now. */
export const ListIndexAnswer = Type.Object({
  listSize: Uint("indexes per list: index i is entry i mod listSize of list floor(i / listSize)"),
  anchor: ListAnchorSchema,
  status_lists: Type.Array(Type.String(), { description: "Token Status List URLs (a Status List Aggregation, draft section 9)" }),
  bitstring: Type.Object({ revocation: Type.Array(Type.String()), suspension: Type.Array(Type.String()) }),
  jwks: Type.String({ description: "the list-signing public key (pin it out of band)" }),
});
export type ListIndexAnswer = Static<typeof ListIndexAnswer>;

/** The claims of a Status List Token as this registry signs them (draft section 5.1, plus the anchor). */
export const StatusListTokenClaims = Type.Object({
  sub: Type.String(),
  iat: Uint(),
  exp: Uint(),
  ttl: Uint(),
  status_list: Type.Object({ bits: Type.Literal(2), lst: Type.String({ pattern: "^[A-Za-z0-9_-]+$" }) }),
  anchor: ListAnchorSchema,
});

export const Jwks = Type.Object({
  keys: Type.Array(
    Type.Object({
      kty: Type.String(),
      crv: Type.String(),
      x: Type.String(),
      y: Type.String(),
      kid: Type.String(),
      alg: Type.String(),
      use: Type.String(),
    }),
  ),
});
export type Jwks = Static<typeof Jwks>;
