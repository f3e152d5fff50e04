import type pg from "pg";

/**
 * SQL of the change summary's rollups (change_rollups) and context entries (change_contexts): see
 * lib/db/schema/change-summaries.ts. How the worker writes them: lib/changes/segments.ts.
 */

/** Ids per block: a segment's ids stay within about one block, so a filter never reads much more than that. */
export const SEGMENT_BLOCK_IDS = 16_384;

/** The counts of an existing row and of the one a commit adds, summed (each column's count too). */
export const MERGE_COUNTS = `
  creates = s.creates + excluded.creates, updates = s.updates + excluded.updates,
  deletes = s.deletes + excluded.deletes, truncates = s.truncates + excluded.truncates,
  fields = case when excluded.fields = '{}'::jsonb then s.fields
                when s.fields = '{}'::jsonb then excluded.fields
                else (select jsonb_object_agg(k, total) from (
                        select k, sum(v::bigint) as total
                          from (select * from jsonb_each_text(s.fields)
                                union all select * from jsonb_each_text(excluded.fields)) e(k, v)
                         group by k) m)
           end`;

/** Ranges widen. */
export const MERGE_RANGES = `
  min_id = least(s.min_id, excluded.min_id), max_id = greatest(s.max_id, excluded.max_id),
  min_lsn = least(s.min_lsn, excluded.min_lsn), max_lsn = greatest(s.max_lsn, excluded.max_lsn),
  min_at = least(s.min_at, excluded.min_at), max_at = greatest(s.max_at, excluded.max_at)`;

export const ROLLUP_COLUMNS = `span, start, source_id, schema, "table", creates, updates, deletes, truncates, fields`;
export const ROLLUP_CONFLICT = `on conflict (span, start, source_id, schema, "table") do update set ${MERGE_COUNTS}`;

export const CONTEXT_COLUMNS = `source_id, block, context, min_id, max_id, min_lsn, max_lsn, min_at, max_at, n`;
export const CONTEXT_CONFLICT = `on conflict (source_id, block, md5(context::text)) do update set ${MERGE_RANGES},
  n = s.n + excluded.n`;

/** The periods a rollup has, in seconds: a minute and an hour. */
export const ROLLUP_SPANS = [60, 3600] as const;

/** A timestamptz expression truncated to the start of the period of `span` (60 or 3600) it is in, in UTC. */
function periodStart(at: string, span: string): string {
  return `case ${span} when 60 then date_trunc('minute', ${at}, 'UTC') else date_trunc('hour', ${at}, 'UTC') end`;
}

/**
 * CTEs (to follow others in a `with`) that add the rows of the relation `rows` (with the columns of `changes`) to
 * change_rollups and change_contexts, as `summary_rollups` and `summary_contexts`.
 */
export function summarizeRollupsAndContextsSql(rows: string): string {
  const start = periodStart("committed_at", "x.span");
  return `
    summary_rollup_fields as (
      select x.span, ${start} as start, source_id, schema, "table", field, count(*) as n
        from ${rows}, (values (60), (3600)) x(span), unnest(changed_fields) as field
       where operation = 'UPDATE'
       group by 1, 2, 3, 4, 5, 6
    ), summary_rollup_maps as (
      select span, start, source_id, schema, "table", jsonb_object_agg(field, n) as fields
        from summary_rollup_fields group by 1, 2, 3, 4, 5
    ), summary_rollup_groups as (
      select x.span, ${start} as start, source_id, schema, "table",
             count(*) filter (where operation = 'CREATE') as creates,
             count(*) filter (where operation = 'UPDATE') as updates,
             count(*) filter (where operation = 'DELETE') as deletes,
             count(*) filter (where operation = 'TRUNCATE') as truncates
        from ${rows}, (values (60), (3600)) x(span) group by 1, 2, 3, 4, 5
    ), summary_rollups as (
      insert into change_rollups as s (${ROLLUP_COLUMNS})
      select g.span, g.start, g.source_id, g.schema, g."table", g.creates, g.updates, g.deletes, g.truncates,
             coalesce(f.fields, '{}'::jsonb)
        from summary_rollup_groups g
        left join summary_rollup_maps f using (span, start, source_id, schema, "table")
      ${ROLLUP_CONFLICT}
    ), summary_contexts as (
      insert into change_contexts as s (${CONTEXT_COLUMNS})
      select source_id, id / ${SEGMENT_BLOCK_IDS}, context::text::jsonb, min(id), max(id), min(commit_lsn),
             max(commit_lsn), min(committed_at), max(committed_at), count(*)
        from ${rows} where context is not null and context <> '{}'::jsonb
       group by source_id, id / ${SEGMENT_BLOCK_IDS}, context::text
      ${CONTEXT_CONFLICT}
    )`;
}

/**
 * Replaces a source's rollups of the periods (minutes and hours) that overlap [from, to) with the sums of its
 * segments: after something rewrote those segments (an expiry, an import). In the caller's transaction.
 */
export async function rebuildRollups(
  db: pg.ClientBase,
  sourceId: string,
  from: string | Date,
  to: string | Date,
): Promise<void> {
  // Hours from the one `from` is in up to the one `to` is in (or ends), minutes from `from` to `to`.
  const bounds = `case x.span when 60 then $2::timestamptz else date_trunc('hour', $2::timestamptz, 'UTC') end`;
  const until = `case x.span when 60 then $3::timestamptz
                 else date_trunc('hour', $3::timestamptz - interval '1 microsecond', 'UTC') + interval '1 hour' end`;
  const params = [sourceId, from, to];
  await db.query(
    `delete from change_rollups r using (values (60), (3600)) x(span)
      where r.span = x.span and r.source_id = $1::uuid and r.start >= ${bounds} and r.start < ${until}`,
    params,
  );
  await db.query(
    `with segments as (
       select x.span, ${periodStart("s.minute", "x.span")} as start, s.*
         from change_segments s, (values (60), (3600)) x(span)
        where s.source_id = $1::uuid and s.minute >= ${bounds} and s.minute < ${until}
     ), rollup_sums as (
       select span, start, source_id, schema, "table", sum(creates) as creates, sum(updates) as updates,
              sum(deletes) as deletes, sum(truncates) as truncates
         from segments group by 1, 2, 3, 4, 5
     ), rollup_fields as (
       select span, start, source_id, schema, "table", jsonb_object_agg(k, total) as fields
         from (select span, start, source_id, schema, "table", e.k, sum(e.v::bigint) as total
                 from segments, jsonb_each_text(segments.fields) e(k, v) group by 1, 2, 3, 4, 5, 6) t
        group by 1, 2, 3, 4, 5
     )
     insert into change_rollups (${ROLLUP_COLUMNS})
     select r.span, r.start, r.source_id, r.schema, r."table", r.creates, r.updates, r.deletes, r.truncates,
            coalesce(f.fields, '{}'::jsonb)
       from rollup_sums r left join rollup_fields f using (span, start, source_id, schema, "table")`,
    params,
  );
}

/**
 * Deletes a source's context entries of the span [from, to) whose id range holds no change with their context any
 * more: after an expiry dropped the span's changes (of one bucket: the others' stay, and keep their entries).
 */
export async function forgetGoneContexts(
  db: pg.ClientBase,
  sourceId: string,
  from: string | Date,
  to: string | Date,
): Promise<void> {
  await db.query(
    `delete from change_contexts x
      where x.source_id = $1::uuid and x.min_at < $3::timestamptz and x.max_at >= $2::timestamptz
        and not exists (select 1 from changes c
                         where c.id between x.min_id and x.max_id and c.source_id = x.source_id
                           and c.context = x.context)`,
    [sourceId, from, to],
  );
}
