import pg from "pg";
import { bytesToHex, hexToBytes, type Hex } from "../core";
import { JournalError, type BatchRecord, type Journal, type StoredEntry } from "./journal";

/** Version of the tables this driver writes; a database of another version is refused, not misread. */
const SCHEMA_VERSION = 1;
/** Rows read per query while iterating entries (keyset pages: memory stays bounded on a large journal). */
const PAGE = 5000;
/** The advisory lock under which instances create the tables, so that two starting at once do not race. */
const SCHEMA_LOCK = 4_242_014;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS journal_meta (key text PRIMARY KEY, value integer NOT NULL);
CREATE TABLE IF NOT EXISTS journal_entries (seq bigint PRIMARY KEY, bytes bytea NOT NULL);
CREATE TABLE IF NOT EXISTS journal_batches (batch bigint PRIMARY KEY, record jsonb NOT NULL, event_data bytea NOT NULL);
CREATE TABLE IF NOT EXISTS journal_lease (
  id integer PRIMARY KEY CHECK (id = 1),
  epoch bigint NOT NULL,
  holder text NOT NULL,
  url text NOT NULL,
  expires_at timestamptz NOT NULL
);
INSERT INTO journal_lease VALUES (1, 0, '', '', '-infinity') ON CONFLICT (id) DO NOTHING;
`;

type Queryable = Pick<pg.PoolClient, "query">;

/** Longest a session may sit idle inside a transaction before the server ends it, unless the opener says (docs/failover.md). */
export const IDLE_IN_WRITE_MS = 2000;

/**
 * A pool on `url` whose database has the journal's tables (created if missing), its connection
 * errors kept from crashing the process (a query then fails instead). Ended if the check fails.
 */
export async function openJournalPool(url: string, max: number, idleInWriteMs = IDLE_IN_WRITE_MS): Promise<pg.Pool> {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: 10_000,
    // a write holds the lease row FOR SHARE until it commits: a process stopped between two of its
    // round trips (SIGSTOP, a frozen VM) must not hold a take-over up; the server ends that session
    // and rolls its write back after this long (a write's own round trips take milliseconds)
    idle_in_transaction_session_timeout: idleInWriteMs,
  });
  pool.on("error", () => undefined); // an idle client lost its server: the next query reconnects
  try {
    await ensureSchema(pool);
  } catch (error) {
    await pool.end();
    throw error;
  }
  return pool;
}

/** Creates the tables if they are missing and checks their version, under one advisory lock. */
async function ensureSchema(pool: pg.Pool): Promise<void> {
  await transaction(pool, async (client) => {
    await client.query("SELECT pg_advisory_xact_lock($1)", [SCHEMA_LOCK]);
    await client.query(SCHEMA);
    const { rows } = await client.query<{ value: number }>("SELECT value FROM journal_meta WHERE key = 'schema'");
    if (rows.length === 0) await client.query("INSERT INTO journal_meta VALUES ('schema', $1)", [SCHEMA_VERSION]);
    else if (rows[0].value !== SCHEMA_VERSION)
      throw new JournalError(
        "UNREADABLE_DATA",
        `the database has journal schema ${rows[0].value}; this service reads schema ${SCHEMA_VERSION}`,
      );
  });
}

/** Runs `work` in one transaction on one pooled connection: committed when it resolves, rolled back when it throws. */
export async function transaction<T>(pool: pg.Pool, work: (client: Queryable) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // the server may end the session between two queries (idle in a transaction too long): the next query fails with it
  const ended = () => undefined;
  client.on("error", ended);
  let failed: Error | undefined;
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    failed = error as Error;
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.off("error", ended);
    client.release(failed); // a failed connection is dropped, not handed out again
  }
}

interface BatchRow {
  record: Omit<BatchRecord, "eventData">;
  event_data: Buffer;
}
const toRecord = (row: BatchRow): BatchRecord => ({ ...row.record, eventData: bytesToHex(row.event_data) as Hex });
const BATCH_COLUMNS = "record, event_data";

/**
 * The journal in PostgreSQL (the `pg` client): entries as bytea keyed by sequence number, batch
 * records as jsonb with their calldata as bytea. Every write is one transaction, committed (so, with
 * the server's default synchronous_commit, flushed to its WAL and to a synchronous standby if one is
 * configured) before it resolves. Opened with an `epoch`, every write first checks in the same
 * transaction that the lease (journal_lease) still carries that epoch, and fails with FENCED when
 * another instance has taken over: a former leader cannot write after losing the lease.
 */
export class PostgresJournal implements Journal {
  private constructor(
    private readonly pool: pg.Pool,
    private readonly epoch: number | undefined,
  ) {}

  /**
   * Opens the journal at `url` (postgres://...), creating its tables if the database has none.
   * `idleInWriteMs`: how long a write stalled between two round trips may hold a take-over up (the
   * service passes its lease: a leader stalled that long has lost the lease anyway).
   */
  static async open(url: string, options: { epoch?: number; idleInWriteMs?: number } = {}): Promise<PostgresJournal> {
    return new PostgresJournal(await openJournalPool(url, 4, options.idleInWriteMs), options.epoch);
  }

  /** One write transaction, fenced by the epoch this journal was opened with. */
  private write(work: (client: Queryable) => Promise<unknown>): Promise<void> {
    return transaction(this.pool, async (client) => {
      if (this.epoch !== undefined) {
        // FOR SHARE: a take-over (an UPDATE of this row) waits for this transaction, or this one reads its new epoch
        const { rows } = await client.query<{ epoch: string }>("SELECT epoch FROM journal_lease WHERE id = 1 FOR SHARE");
        if (Number(rows[0].epoch) !== this.epoch)
          throw new JournalError("FENCED", `the lease has passed to epoch ${rows[0].epoch}; this instance held epoch ${this.epoch}`);
      }
      await work(client);
    });
  }

  append(entries: readonly StoredEntry[]): Promise<void> {
    // no ON CONFLICT: a sequence number taken twice is two writers, which the fence exists to prevent
    return this.write((client) => insertEntries(client, entries));
  }

  rebase(change: { entries: readonly StoredEntry[]; after: number; struck: BatchRecord }): Promise<void> {
    return this.write(async (client) => {
      await insertEntries(client, change.entries, "ON CONFLICT (seq) DO UPDATE SET bytes = EXCLUDED.bytes");
      await client.query("DELETE FROM journal_batches WHERE batch > $1", [change.after]);
      await upsertBatch(client, change.struck);
    });
  }

  async *entries(range: { from?: number; to?: number } = {}): AsyncIterable<StoredEntry> {
    let from = range.from ?? 0;
    const to = range.to ?? Number.MAX_SAFE_INTEGER;
    for (;;) {
      const { rows } = await this.pool.query<{ seq: string; bytes: Buffer }>(
        "SELECT seq, bytes FROM journal_entries WHERE seq >= $1 AND seq < $2 ORDER BY seq LIMIT $3",
        [from, to, PAGE],
      );
      for (const row of rows) yield { seq: Number(row.seq), bytes: new Uint8Array(row.bytes) };
      if (rows.length < PAGE) return;
      from = Number(rows[rows.length - 1].seq) + 1;
    }
  }

  async entry(seq: number): Promise<Uint8Array | undefined> {
    const { rows } = await this.pool.query<{ bytes: Buffer }>("SELECT bytes FROM journal_entries WHERE seq = $1", [seq]);
    return rows[0] && new Uint8Array(rows[0].bytes);
  }

  putBatch(record: BatchRecord): Promise<void> {
    return this.write((client) => upsertBatch(client, record));
  }

  async batch(batch: number): Promise<BatchRecord | undefined> {
    const { rows } = await this.pool.query<BatchRow>(`SELECT ${BATCH_COLUMNS} FROM journal_batches WHERE batch = $1`, [batch]);
    return rows[0] && toRecord(rows[0]);
  }

  async *batches(options: { before?: number; limit: number }): AsyncIterable<BatchRecord> {
    const { rows } = await this.pool.query<BatchRow>(
      `SELECT ${BATCH_COLUMNS} FROM journal_batches WHERE batch < $1 ORDER BY batch DESC LIMIT $2`,
      [options.before ?? Number.MAX_SAFE_INTEGER, options.limit],
    );
    yield* rows.map(toRecord);
  }

  async latestBatch(): Promise<BatchRecord | undefined> {
    for await (const record of this.batches({ limit: 1 })) return record;
    return undefined;
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

/** Rows per INSERT: a group of submissions is one statement; a long re-base a few. */
const ROWS_PER_INSERT = 1000;

/**
 * Entries in one statement per ROWS_PER_INSERT rows, each value a parameter of its own: pg sends a
 * Buffer parameter in binary, where an array of bytea would go as hex text (3 times slower for a
 * bulk submission's 540 kB entry).
 */
async function insertEntries(client: Queryable, entries: readonly StoredEntry[], onConflict = ""): Promise<void> {
  for (let from = 0; from < entries.length; from += ROWS_PER_INSERT) {
    const rows = entries.slice(from, from + ROWS_PER_INSERT);
    const values = rows.map((_, i) => `($${2 * i + 1}, $${2 * i + 2})`).join(", ");
    const parameters = rows.flatMap(({ seq, bytes }) => [seq, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)]);
    await client.query(`INSERT INTO journal_entries (seq, bytes) VALUES ${values} ${onConflict}`, parameters);
  }
}

async function upsertBatch(client: Queryable, record: BatchRecord): Promise<void> {
  const { eventData, ...rest } = record;
  await client.query(
    "INSERT INTO journal_batches (batch, record, event_data) VALUES ($1, $2, $3) ON CONFLICT (batch) DO UPDATE SET record = EXCLUDED.record, event_data = EXCLUDED.event_data",
    [record.batch, JSON.stringify(rest), Buffer.from(hexToBytes(eventData))],
  );
}
