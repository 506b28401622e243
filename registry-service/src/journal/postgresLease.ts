import type pg from "pg";
import { openJournalPool } from "./postgresJournal";

/** Who holds the lease, as the database says: its epoch, the holder's name and URL, and whether it is still valid. */
export interface LeaseHolder {
  epoch: number;
  holder: string;
  url: string;
  valid: boolean;
}

/** The lease's row, judged by the database's clock (instances' clocks never matter). */
const HOLDER = "SELECT epoch, holder, url, expires_at > clock_timestamp() AS valid FROM journal_lease WHERE id = 1";

/**
 * The write path's leadership as one row of the journal's database (journal_lease): an epoch, a
 * holder and an expiry on the database's clock. Taking the lease raises the epoch; the leader renews
 * it well before it expires; PostgresJournal opened with the epoch refuses every write once the
 * epoch has moved on (the fence). Its own small pool: renewals never wait behind journal writes.
 */
export class PostgresLease {
  private constructor(private readonly pool: pg.Pool) {}

  static async open(url: string): Promise<PostgresLease> {
    return new PostgresLease(await openJournalPool(url, 2));
  }

  /** Takes the lease if it has expired (or was released): the new epoch, or undefined while another holds it. */
  async tryAcquire(holder: string, url: string, ttlMs: number): Promise<number | undefined> {
    const { rows } = await this.pool.query<{ epoch: string }>(
      `UPDATE journal_lease SET epoch = epoch + 1, holder = $1, url = $2, expires_at = clock_timestamp() + $3 * interval '1 millisecond'
       WHERE id = 1 AND expires_at <= clock_timestamp() RETURNING epoch`,
      [holder, url, ttlMs],
    );
    return rows[0] && Number(rows[0].epoch);
  }

  /** Extends the lease of `epoch` by `ttlMs` from now; false when another instance has taken it since. */
  async renew(epoch: number, ttlMs: number, url?: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE journal_lease SET expires_at = clock_timestamp() + $2 * interval '1 millisecond', url = COALESCE($3, url)
       WHERE id = 1 AND epoch = $1`,
      [epoch, ttlMs, url ?? null],
    );
    return rowCount === 1;
  }

  async current(): Promise<LeaseHolder> {
    const { rows } = await this.pool.query<{ epoch: string; holder: string; url: string; valid: boolean }>(HOLDER);
    return { ...rows[0], epoch: Number(rows[0].epoch) };
  }

  /** True while `epoch` is the lease's and has not expired. */
  async holds(epoch: number): Promise<boolean> {
    const lease = await this.current();
    return lease.epoch === epoch && lease.valid;
  }

  /** Gives the lease up at once (a graceful stop): a standby takes over at its next try instead of at expiry. */
  async release(epoch: number): Promise<void> {
    await this.pool.query("UPDATE journal_lease SET expires_at = '-infinity' WHERE id = 1 AND epoch = $1", [epoch]);
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
