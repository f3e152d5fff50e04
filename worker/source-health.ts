import type pg from "pg";
import type { Logger } from "pino";
import { isoTimestampSql } from "../lib/db/iso-timestamp";
import { compareLsn } from "../lib/replication/lsn";
import { recordLag } from "../lib/sources/status";
import type { SourceMetrics } from "./metrics";

/**
 * Heartbeats and lag, measured on a source's catalog connection while its stream runs.
 *
 * Heartbeat: a non-transactional logical message. It needs no table and goes through the slot
 * like any change, so even a source whose tracked tables never change sends the stream something
 * to acknowledge (PostgreSQL's own keepalives do that too, but only when the walsender chooses to
 * send one; the heartbeat does not depend on it).
 */
export const HEARTBEAT_PREFIX = "_retrace_heartbeat";

/** Writes a heartbeat into the source's WAL; returns its LSN. The content is the source's time. */
export async function emitHeartbeat(client: pg.ClientBase): Promise<string> {
  const { rows } = await client.query<{ lsn: string }>(
    `select pg_logical_emit_message(false, $1, ${isoTimestampSql("now()")})::text as lsn`,
    [HEARTBEAT_PREFIX],
  );
  const [row] = rows;
  if (!row) throw new Error("pg_logical_emit_message returned nothing");
  return row.lsn;
}

export type LagState = {
  /** Commit time of the transaction being received and written now (null: none open). */
  openCommittedAt: string | null;
  /** Commit time of the last source transaction stored (null: none known). */
  lastStoredCommitAt: string | null;
  /** The source's WAL position at the previous measurement (null: first one). */
  previousWalLsn: string | null;
};

export type Lag = {
  /** Source WAL bytes past the slot's confirmed position. */
  bytes: number;
  /** See lagSeconds. Null when behind with no stored commit to measure from, or not yet known. */
  seconds: number | null;
  /** The source's WAL position now (insert position, or replay position on a standby). */
  walLsn: string;
  standby: boolean;
};

/**
 * Lag in seconds: how far the stored audit trail is behind the source, in source time.
 *
 * - A transaction is being received or written: source now() minus its commit time (pgoutput's
 *   BEGIN carries it). Transactions arrive in commit order, so it is the oldest one not stored.
 * - Otherwise, if the stream is behind, source now() minus the commit time of the last stored
 *   transaction: every change committed before it is stored, so the oldest one missing is at
 *   most that old (an upper bound). "Behind" means the slot's confirmed position has not yet
 *   reached the WAL position the source had at the previous measurement: a stream that is caught
 *   up acknowledges everything within moments (heartbeats and keepalives), so WAL that stays
 *   unacknowledged for a whole interval is WAL the worker has not got through.
 * - Otherwise 0: everything the source committed up to the previous measurement is stored.
 *
 * Null when it cannot be known: behind with no stored commit yet, or on the first measurement of
 * a session while the slot trails the source (no previous position to judge "behind" by).
 */
export function lagSeconds(sample: {
  openAge: number | null;
  storedAge: number | null;
  behind: boolean | null;
}): number | null {
  if (sample.openAge !== null) return Math.max(0, sample.openAge);
  if (sample.behind === false) return 0;
  if (sample.behind === null || sample.storedAge === null) return null;
  return Math.max(0, sample.storedAge);
}

/**
 * Measures the slot's lag on the source. Run it before emitting a heartbeat: the heartbeat's
 * own WAL would otherwise count as lag until it is acknowledged.
 */
export async function measureLag(client: pg.ClientBase, slotName: string, state: LagState): Promise<Lag> {
  const { rows } = await client.query<{
    wal_lsn: string;
    confirmed: string | null;
    lag_bytes: string | null;
    standby: boolean;
    open_age: number | null;
    stored_age: number | null;
  }>(
    `select w.lsn::text as wal_lsn,
            s.confirmed_flush_lsn::text as confirmed,
            pg_wal_lsn_diff(w.lsn, s.confirmed_flush_lsn)::text as lag_bytes,
            w.standby,
            extract(epoch from now() - $2::timestamptz)::float8 as open_age,
            extract(epoch from now() - $3::timestamptz)::float8 as stored_age
       from (select pg_is_in_recovery() as standby,
                    case when pg_is_in_recovery() then pg_last_wal_replay_lsn() else pg_current_wal_lsn() end as lsn) w
       left join pg_replication_slots s on s.slot_name = $1 and s.database = current_database()`,
    [slotName, state.openCommittedAt, state.lastStoredCommitAt],
  );
  const [row] = rows;
  if (!row?.confirmed) throw new Error(`Replication slot ${slotName} does not exist in this database`);
  const behind = state.previousWalLsn === null ? null : compareLsn(row.confirmed, state.previousWalLsn) < 0;
  const bytes = Math.max(0, Number(row.lag_bytes ?? 0));
  return {
    bytes,
    // Caught up right now is caught up, previous position or not.
    seconds: lagSeconds({ openAge: row.open_age, storedAge: row.stored_age, behind: bytes === 0 ? false : behind }),
    walLsn: row.wal_lsn,
    standby: row.standby,
  };
}

export type HealthOptions = {
  /** How often lag is measured and a status update is sent. */
  intervalMs: number;
  /** Whether each measurement also writes a heartbeat message into the source's WAL. */
  heartbeats: boolean;
};

export type HealthLoopOptions = HealthOptions & {
  /** The session's catalog connection to the source. */
  catalog: pg.Client;
  store: pg.Pool;
  sourceId: string;
  slotName: string;
  metrics?: SourceMetrics;
  logger: Logger;
  /** What lag in seconds is measured from, now (see LagState). */
  commitTimes: () => Pick<LagState, "openCommittedAt" | "lastStoredCommitAt">;
  /**
   * Reports the acknowledged position again, which also keeps the walsender from timing out while
   * a long store write keeps the replication socket paused.
   */
  acknowledge: () => Promise<void>;
  /** Each measurement, once stored. */
  measured?: (lag: Lag) => void;
};

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Every `intervalMs` while a session streams: measures the slot's lag and stores it, writes a
 * heartbeat into the source's WAL (when `heartbeats`), and reports the acknowledged position
 * again. Failures here are logged, not fatal: the stream itself is what matters, and a broken
 * connection fails it anyway.
 */
export class HealthLoop {
  private readonly log: Logger;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private measuring = false;
  private previousWalLsn: string | null = null;
  private warnedHeartbeat = false;

  constructor(private readonly options: HealthLoopOptions) {
    this.log = options.logger;
  }

  /** Measures now, then every interval, until stop(). */
  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => void this.check(), this.options.intervalMs);
    void this.check();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async check(): Promise<void> {
    if (this.measuring || this.stopped) return;
    this.measuring = true;
    const { catalog, store, sourceId, slotName, heartbeats } = this.options;
    try {
      const lag = await measureLag(catalog, slotName, {
        ...this.options.commitTimes(),
        previousWalLsn: this.previousWalLsn,
      });
      this.previousWalLsn = lag.walLsn;
      this.options.metrics?.lag(lag.bytes, lag.seconds);
      this.log.debug({ lagBytes: lag.bytes, lagSeconds: lag.seconds, lsn: lag.walLsn }, "lag measured");
      await recordLag(store, sourceId, lag);
      this.options.measured?.(lag);
      // A standby cannot write WAL; its keepalives still carry the replay position.
      if (heartbeats && !lag.standby && !this.stopped) await this.heartbeat();
      await this.options.acknowledge();
    } catch (error) {
      if (!this.stopped) this.log.warn({ err: { message: errorText(error) } }, "lag measurement failed");
    } finally {
      this.measuring = false;
    }
  }

  private async heartbeat(): Promise<void> {
    try {
      const lsn = await emitHeartbeat(this.options.catalog);
      this.log.trace({ lsn }, "heartbeat written");
    } catch (error) {
      // e.g. EXECUTE on pg_logical_emit_message revoked: keepalives still advance the slot.
      if (!this.warnedHeartbeat) {
        this.warnedHeartbeat = true;
        this.log.warn({ err: { message: errorText(error) } }, "could not write a heartbeat to the source");
      }
    }
  }
}
