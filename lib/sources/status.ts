import { and, eq, isNull } from "drizzle-orm";
import type pg from "pg";
import type { Queryable } from "../db/client";
import { isoTimestampSql } from "../db/iso-timestamp";
import { sources } from "../db/schema";
import { safeErrorText, type SourceFailure } from "./failure";

/**
 * A source's runtime state on its `sources` row: its status and why it fails, its lag, and its
 * checkpoint (the commit LSN of the last source transaction stored, with the commit time of the
 * last one that had changes). The worker streaming the source writes it, pause and resume change
 * the status; nothing else writes any of it (lib/sources/queries.ts reads it with the rest of the
 * row). Status: `pending` (new or resumed, not streamed yet), `streaming`, `error` (replication
 * sessions fail: `last_error` and `last_error_fix` say why and what to do, `failing_since` since
 * when) or `paused`.
 *
 * The worker's functions take node-postgres (the pool it writes through, or the client of a store
 * transaction); the web app's take drizzle.
 */
type Sql = pg.Pool | pg.ClientBase;

/** A stream started: a new or resumed source is streaming (one that failed waits for recovered()). */
export async function markStreaming(store: Sql, sourceId: string): Promise<void> {
  await store.query(
    "update sources set status = 'streaming', updated_at = now() where id = $1 and status = 'pending'",
    [sourceId],
  );
}

/**
 * A session of a source that was failing got somewhere (stored or acknowledged a change, or found the slot
 * caught up): it streams again, and its run of failures is over. Not when the stream merely started: a session
 * that starts and fails again at once (a change the store refuses, say) is the same run of failures, and the
 * page must not flicker to "streaming" at every retry.
 */
export async function markRecovered(store: Sql, sourceId: string): Promise<void> {
  await store.query(
    "update sources set status = 'streaming', last_error = null, last_error_fix = null, failing_since = null, " +
      "updated_at = now() where id = $1 and status in ('pending', 'error')",
    [sourceId],
  );
}

/** What the worker logs of an error: the message only, bounded, never a connection string. */
export function lastErrorText(error: unknown): string {
  return safeErrorText(error).slice(0, 1000);
}

/**
 * A replication session failed (it is retried): the source shows why, and since when it has been failing,
 * which the retries that fail after it keep. Not over a pause: the user's pause wins a race with a failing
 * session that is being stopped.
 */
export async function recordError(store: Sql, sourceId: string, failure: SourceFailure): Promise<void> {
  await store.query(
    `update sources
        set status = 'error', last_error = $2, last_error_fix = $3,
            failing_since = case when status = 'error' then coalesce(failing_since, now()) else now() end,
            updated_at = now()
      where id = $1 and enabled`,
    [sourceId, failure.message, failure.fix],
  );
}

/** A lag measurement (not `updated_at`: lag is not a settings change). */
export async function recordLag(
  store: Sql,
  sourceId: string,
  lag: { bytes: number; seconds: number | null },
): Promise<void> {
  await store.query("update sources set lag_bytes = $2, lag_seconds = $3, lag_measured_at = now() where id = $1", [
    sourceId,
    lag.bytes,
    lag.seconds,
  ]);
}

export type StoredPosition = {
  /** Commit LSN of the last transaction stored for the source (null: none yet). */
  checkpointLsn: string | null;
  /** Commit time of the last stored transaction with changes, ISO 8601 UTC (null: none yet). */
  lastChangeAt: string | null;
};

/** Where a new replication session resumes. */
export async function storedPosition(store: Sql, sourceId: string): Promise<StoredPosition> {
  const { rows } = await store.query<{ checkpoint: string | null; last_change_at: string | null }>(
    `select checkpoint_lsn::text as checkpoint, ${isoTimestampSql("last_change_at")} as last_change_at
       from sources where id = $1`,
    [sourceId],
  );
  const [row] = rows;
  if (!row) throw new Error("Source no longer exists");
  return { checkpointLsn: row.checkpoint, lastChangeAt: row.last_change_at };
}

// Monotonic: a replay after a crash rewrites (and deduplicates) older transactions and must not
// move the checkpoint back. Updating no row means the source was deleted (or removed) meanwhile: the store
// transaction must not commit rows of a source that no longer exists (changes has no foreign key).
const ADVANCE_CHECKPOINT = `
  update sources
     set checkpoint_lsn = greatest(coalesce(checkpoint_lsn, '0/0'::pg_lsn), $2::pg_lsn),
         last_change_at = greatest(last_change_at, $3::timestamptz),
         status = 'streaming',
         last_error = null,
         last_error_fix = null,
         failing_since = null,
         updated_at = now()
   where id = $1 and removed_at is null`;

/**
 * Advances the checkpoint to `commitLsn` (and the last change time to `lastChangeAt`, unless
 * null). Run inside the store transaction that holds the rows up to `commitLsn`
 * (StoreTransaction.commit), so that both commit together or not at all.
 */
export async function advanceCheckpoint(
  db: Sql,
  sourceId: string,
  commitLsn: string,
  lastChangeAt: string | null,
): Promise<void> {
  const { rowCount } = await db.query(ADVANCE_CHECKPOINT, [sourceId, commitLsn, lastChangeAt]);
  if (rowCount !== 1) throw new Error("Source no longer exists in the store");
}

/**
 * Pause (the worker lets go of the source) or resume (`pending` until a worker streams it, the
 * last error cleared). False when there is no such source.
 */
export async function setEnabled(db: Queryable, sourceId: string, enabled: boolean): Promise<boolean> {
  const updated = await db
    .update(sources)
    .set(
      enabled
        ? { enabled, status: "pending", lastError: null, lastErrorFix: null, failingSince: null }
        : { enabled, status: "paused" },
    )
    .where(and(eq(sources.id, sourceId), isNull(sources.removedAt)))
    .returning({ id: sources.id });
  return updated.length > 0;
}
