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
 * CTEs (to follow others in a `with`) that take the counts of the segments a `delete … returning s.*` CTE named
 * `gone` removed off the rollups they were summed into (`rollups_subtracted`). Additions and subtractions commute,
 * so this is exact while the worker adds to the same rollups (an hour's, say) at the same time. Rollups left at zero
 * are then deleted by deleteEmptyRollups.
 */
export const SUBTRACT_GONE_SEGMENTS = `
  gone_fields as (
    select x.span, ${periodStart("g.minute", "x.span")} as start, g.source_id, g.schema, g."table", e.k,
           -sum(e.v::bigint) as total
      from gone g, (values (60), (3600)) x(span), jsonb_each_text(g.fields) e(k, v)
     group by 1, 2, 3, 4, 5, 6
  ), gone_sums as (
    select x.span, ${periodStart("g.minute", "x.span")} as start, g.source_id, g.schema, g."table",
           -sum(g.creates) as creates, -sum(g.updates) as updates, -sum(g.deletes) as deletes,
           -sum(g.truncates) as truncates
      from gone g, (values (60), (3600)) x(span) group by 1, 2, 3, 4, 5
  ), rollups_subtracted as (
    insert into change_rollups as s (${ROLLUP_COLUMNS})
    select d.span, d.start, d.source_id, d.schema, d."table", d.creates, d.updates, d.deletes, d.truncates,
           coalesce((select jsonb_object_agg(f.k, f.total) from gone_fields f
                      where (f.span, f.start, f.source_id, f.schema, f."table")
                          = (d.span, d.start, d.source_id, d.schema, d."table")), '{}'::jsonb)
      from gone_sums d
    ${ROLLUP_CONFLICT}
  )`;

/** Deletes a source's rollups in [from, to) (hours from the one `from` is in) that count nothing any more. */
export async function deleteEmptyRollups(
  db: pg.ClientBase,
  sourceId: string,
  from: string | Date,
  to: string | Date,
): Promise<void> {
  await db.query(
    `delete from change_rollups r
      where r.source_id = $1::uuid and r.start >= date_trunc('hour', $2::timestamptz, 'UTC')
        and r.start < $3::timestamptz
        and r.creates = 0 and r.updates = 0 and r.deletes = 0 and r.truncates = 0`,
    [sourceId, from, to],
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
  // Locked first, then checked in a later statement (a new snapshot): an entry the worker widened meanwhile is seen
  // with the changes it widened for.
  const span = `x.source_id = $1::uuid and x.min_at < $3::timestamptz and x.max_at >= $2::timestamptz`;
  await db.query(`select 1 from change_contexts x where ${span} for update`, [sourceId, from, to]);
  await db.query(
    `delete from change_contexts x
      where ${span}
        and not exists (select 1 from changes c
                         where c.id between x.min_id and x.max_id and c.source_id = x.source_id
                           and c.context = x.context)`,
    [sourceId, from, to],
  );
}
