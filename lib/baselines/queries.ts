import { sql } from "drizzle-orm";
import type { Queryable } from "../db/client";
import { isoTimestampSql } from "../db/iso-timestamp";
import type { BaselineStatus } from "../db/schema";
import { Conflict, Invalid, NotFound } from "../errors";
import type { BaselineRow, SnapshotInfo } from "./copy";

/** A baseline as the API shows it. */
export type BaselineJson = {
  id: string;
  sourceId: string;
  schema: string;
  table: string;
  status: BaselineStatus;
  consistentLsn: string | null;
  snapshotAt: string | null;
  rowsEstimated: number | null;
  rowsCopied: number;
  error: string | null;
  requestedBy: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
};

const iso = (column: string) => sql.raw(isoTimestampSql(column));

const BASELINE_COLUMNS = sql`
  id::text as id, source_id::text as "sourceId", schema, "table", status::text as status,
  consistent_lsn::text as "consistentLsn", ${iso("snapshot_at")} as "snapshotAt",
  rows_estimated::float8 as "rowsEstimated", rows_copied::float8 as "rowsCopied", error, requested_by as "requestedBy",
  ${iso("created_at")} as "createdAt", ${iso("started_at")} as "startedAt", ${iso("finished_at")} as "finishedAt"`;

/** How long a running baseline may go without a chunk before another worker takes it over. */
export const BASELINE_STALE_SECONDS = 60;

/**
 * Asks for a baseline of a tracked table ("schema.table", or a name that is tracked in one schema only); the worker
 * runs it. One at a time per table: 409 while one is pending or running.
 */
export async function requestBaseline(
  db: Queryable,
  sourceId: string,
  typed: string,
  requestedBy: string | null,
): Promise<BaselineJson> {
  const source = await db.execute(sql`select 1 from sources where id = ${sourceId}::uuid`);
  if (source.rows.length === 0) throw new NotFound("Database");
  const tracked = await db.execute<{ schema: string; table: string }>(sql`
    select schema, "table" from tracked_tables
     where source_id = ${sourceId}::uuid and (schema || '.' || "table" = ${typed} or "table" = ${typed})
     order by schema || '.' || "table" = ${typed} desc`);
  const exact = tracked.rows.filter((row) => `${row.schema}.${row.table}` === typed);
  const rows = exact.length > 0 ? exact : tracked.rows;
  const [target] = rows;
  if (!target || rows.length > 1) {
    const message = target ? "names a table in several schemas; give schema.table" : "is not a tracked table";
    throw new Invalid(`table: ${message}`, [{ path: "table", message }]);
  }
  const busy = await db.execute(sql`
    select 1 from baselines where source_id = ${sourceId}::uuid and schema = ${target.schema}
       and "table" = ${target.table} and status in ('pending', 'running')`);
  if (busy.rows.length > 0) throw new Conflict(`A baseline of ${target.schema}.${target.table} is already running.`);
  const created = await db.execute<BaselineJson>(sql`
    insert into baselines (source_id, schema, "table", requested_by)
    values (${sourceId}::uuid, ${target.schema}, ${target.table}, ${requestedBy})
    returning ${BASELINE_COLUMNS}`);
  const [baseline] = created.rows;
  if (!baseline) throw new Error("insert returned no baseline");
  return baseline;
}

/** A source's baselines, newest first. */
export async function listBaselines(db: Queryable, sourceId: string): Promise<BaselineJson[]> {
  const found = await db.execute<BaselineJson>(sql`
    select ${BASELINE_COLUMNS} from baselines where source_id = ${sourceId}::uuid order by created_at desc limit 200`);
  return found.rows;
}

/**
 * Takes the oldest pending baseline (or a running one whose worker stopped writing chunks) for this worker, and
 * forgets what an earlier attempt copied of it: a copy restarts from a new snapshot.
 */
export async function claimBaseline(db: Queryable): Promise<BaselineJson | null> {
  const claimed = await db.execute<BaselineJson>(sql`
    update baselines set status = 'running', started_at = now(), heartbeat_at = now(), rows_copied = 0,
                         consistent_lsn = null, snapshot_at = null, error = null
     where id = (
       select id from baselines
        where status = 'pending'
           or (status = 'running' and heartbeat_at < now() - make_interval(secs => ${BASELINE_STALE_SECONDS}))
        order by created_at for update skip locked limit 1)
    returning ${BASELINE_COLUMNS}`);
  const [baseline] = claimed.rows;
  if (baseline) await db.execute(sql`delete from baseline_rows where baseline_id = ${baseline.id}::uuid`);
  return baseline ?? null;
}

export async function recordSnapshot(db: Queryable, id: string, info: SnapshotInfo): Promise<void> {
  await db.execute(sql`
    update baselines set consistent_lsn = ${info.consistentLsn}::pg_lsn, snapshot_at = ${info.snapshotAt}::timestamptz,
                         rows_estimated = ${info.rowsEstimated}, heartbeat_at = now()
     where id = ${id}::uuid`);
}

/** Stores a chunk and the progress in one statement. */
export async function writeChunk(db: Queryable, id: string, rows: BaselineRow[]): Promise<void> {
  // One JSON text parameter for the chunk (images stay the text they are: json, not jsonb, keeps every digit).
  const input = JSON.stringify(rows.map((row) => [row.primaryKey, row.image, row.jsonNullFields]));
  await db.execute(sql`
    with input as (
      select e ->> 0 as primary_key, e ->> 1 as image, e -> 2 as nulls from json_array_elements(${input}::json) e
    ), stored as (
      insert into baseline_rows (baseline_id, primary_key, image, json_null_fields)
      select ${id}::uuid, primary_key, image::json,
             case when json_typeof(nulls) = 'array' then array(select json_array_elements_text(nulls)) end
        from input
      on conflict do nothing
    )
    update baselines set rows_copied = rows_copied + ${rows.length}, heartbeat_at = now() where id = ${id}::uuid`);
}

export async function finishBaseline(db: Queryable, id: string, outcome: { error?: string; retry?: boolean }) {
  const status: BaselineStatus = outcome.retry ? "pending" : outcome.error === undefined ? "done" : "failed";
  await db.execute(sql`
    update baselines set status = ${status}::baseline_status, error = ${outcome.error ?? null},
                         finished_at = case when ${status} in ('done', 'failed') then now() end
     where id = ${id}::uuid`);
}
