import type pg from "pg";
import { compareLsn } from "../lib/replication/lsn";

/**
 * Heartbeats and lag, measured on a source's catalog connection while its stream runs.
 *
 * Heartbeat: a non-transactional logical message. It needs no table and goes through the slot
 * like any change, so even a source whose tracked tables never change sends the stream something
 * to confirm (PostgreSQL's own keepalives do that too, but only when the walsender chooses to
 * send one; the heartbeat does not depend on it).
 */
export const HEARTBEAT_PREFIX = "_retrace_heartbeat";

/** Writes a heartbeat into the source's WAL; returns its LSN. The content is the source's time. */
export async function emitHeartbeat(client: pg.ClientBase): Promise<string> {
  const { rows } = await client.query<{ lsn: string }>(
    `select pg_logical_emit_message(false, $1,
                                    to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text as lsn`,
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
 *   most that old (an upper bound). "Behind" means the slot has not yet confirmed the WAL
 *   position the source had at the previous measurement: a stream that is caught up confirms
 *   everything within moments (heartbeats and keepalives), so WAL that stays unconfirmed for a
 *   whole interval is WAL the worker has not got through.
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
 * own WAL would otherwise count as lag until it is confirmed.
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

/** Stores a measurement on the source row (not `updated_at`: lag is not a settings change). */
export async function recordLag(store: pg.Pool, sourceId: string, lag: Lag): Promise<void> {
  await store.query("update sources set lag_bytes = $2, lag_seconds = $3, lag_measured_at = now() where id = $1", [
    sourceId,
    lag.bytes,
    lag.seconds,
  ]);
}
