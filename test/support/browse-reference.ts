/**
 * The browse paths as they were before the context entries and rollups (change_contexts, change_rollups): what the
 * new paths must answer exactly. The list: every change meeting the filters, newest first, straight from `changes`;
 * the chart: the summary's minute segments (change_segments) summed per bucket.
 */
import { sql } from "drizzle-orm";
import type { Queryable } from "@/lib/db/client";
import type { Activity } from "@/lib/changes/activity";
import { OPERATIONS } from "@/lib/changes/filters";
import type { ChangeFilters } from "@/lib/changes/params";
import { COUNT_COLUMNS, resolveScope, rowConditions, segmentConditions } from "@/lib/changes/scope";

/** The ids of every change the filters match, newest first (a plain filter over `changes`). */
export async function referenceIds(db: Queryable, filters: ChangeFilters): Promise<string[]> {
  const scope = await resolveScope(db, filters);
  if (scope === null) return [];
  const conditions = rowConditions(scope);
  const where = conditions.length > 0 ? sql`where ${sql.join(conditions, sql` and `)}` : sql``;
  const result = await db.execute<{ id: string }>(
    sql`select c.id::text as id from changes c ${where} order by c.id desc`,
  );
  return result.rows.map((row) => row.id);
}

/** The chart's buckets as the minute segments sum them (the range and bucket size taken from `activity`). */
export async function referenceBuckets(
  db: Queryable,
  filters: ChangeFilters,
  activity: Activity,
): Promise<Activity["buckets"]> {
  const origin = activity.buckets[0]?.start ?? activity.from;
  const buckets = activity.buckets.map((b) => ({ start: b.start, CREATE: 0, UPDATE: 0, DELETE: 0, TRUNCATE: 0 }));
  const scope = await resolveScope(db, { ...filters, from: activity.from, to: activity.to });
  if (scope === null) return buckets;
  const where = [
    ...segmentConditions({ ...scope, filters: { ...scope.filters, from: undefined, to: undefined } }),
    sql`s.minute >= ${origin}::timestamptz`,
    sql`s.minute < ${activity.to}::timestamptz`,
  ];
  for (const operation of scope.operations ?? OPERATIONS) {
    const counted =
      filters.field === undefined
        ? sql.raw(`s.${COUNT_COLUMNS[operation]}`)
        : sql`coalesce((s.fields ->> ${filters.field})::bigint, 0)`;
    const result = await db.execute<{ i: number; n: string }>(sql`
      select floor(extract(epoch from s.minute - ${origin}::timestamptz) / ${activity.bucketSeconds})::int as i,
             sum(${counted})::text as n
        from change_segments s where ${sql.join(where, sql` and `)} group by 1`);
    for (const row of result.rows) {
      const bucket = buckets[row.i];
      if (bucket) bucket[operation] += Number(row.n);
    }
  }
  return buckets;
}

/** Runs a statement on the store, answering its rows. */
type RawQuery = (text: string) => Promise<unknown[]>;

/** Rollups that differ from the sums of the segments (none when the summary is consistent). */
export async function rollupsOffSegments(query: RawQuery): Promise<unknown[]> {
  return query(`
    with sums as (
      select x.span, case x.span when 60 then s.minute else date_trunc('hour', s.minute, 'UTC') end as start,
             s.source_id, s.schema, s."table", sum(creates)::bigint as creates, sum(updates)::bigint as updates,
             sum(deletes)::bigint as deletes, sum(truncates)::bigint as truncates
        from change_segments s, (values (60), (3600)) x(span) group by 1, 2, 3, 4, 5
    ), rollups as (
      select span, start, source_id, schema, "table", creates, updates, deletes, truncates from change_rollups
    )
    (select 'missing' as what, * from sums except select 'missing', * from rollups)
    union all
    (select 'extra', * from rollups except select 'extra', * from sums)`);
}

/** Changes with a context that no context entry of theirs covers (none when the summary is consistent). */
export async function changesOutsideContexts(query: RawQuery): Promise<unknown[]> {
  return query(`
    select c.id::text, c.context from changes c
     where c.context is not null and c.context <> '{}'::jsonb
       and not exists (select 1 from change_contexts x
                        where x.source_id = c.source_id and x.context = c.context
                          and c.id between x.min_id and x.max_id)`);
}

/**
 * Sets the rollups to the sums of the segments, as the store keeps them (for a test that wrote segments by hand).
 */
export async function resumRollups(query: RawQuery): Promise<void> {
  await query("delete from change_rollups");
  await query(`
    with segments as (
      select x.span, case x.span when 60 then s.minute else date_trunc('hour', s.minute, 'UTC') end as start, s.*
        from change_segments s, (values (60), (3600)) x(span)
    ), sums as (
      select span, start, source_id, schema, "table", sum(creates) as creates, sum(updates) as updates,
             sum(deletes) as deletes, sum(truncates) as truncates
        from segments group by 1, 2, 3, 4, 5
    ), fields as (
      select span, start, source_id, schema, "table", jsonb_object_agg(k, total) as fields
        from (select span, start, source_id, schema, "table", e.k, sum(e.v::bigint) as total
                from segments, jsonb_each_text(segments.fields) e(k, v) group by 1, 2, 3, 4, 5, 6) t
       group by 1, 2, 3, 4, 5
    )
    insert into change_rollups (span, start, source_id, schema, "table", creates, updates, deletes, truncates, fields)
    select r.span, r.start, r.source_id, r.schema, r."table", r.creates, r.updates, r.deletes, r.truncates,
           coalesce(f.fields, '{}'::jsonb)
      from sums r left join fields f using (span, start, source_id, schema, "table")`);
}
