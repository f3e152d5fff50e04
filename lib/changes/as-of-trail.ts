import { sql, type SQL } from "drizzle-orm";
import type { Queryable } from "../db/client";
import type { AsOfTable } from "./as-of-target";
import { columns, type ChangeRow } from "./change";
import { bucketBounds, parentFirst, unionOf, utcText } from "./partitions";

/**
 * Where time travel finds one table's changes without opening every partition of the trail (lib/changes/partitions.ts):
 * a table's changes are in its source's own bucket or in the table's, committed no earlier than the table's first
 * change that the change summary holds (every stored change is in a segment: change-segments.ts). The readers below
 * take a window of commit times from there and read one branch per such bucket bounded by it, and one in the default
 * partition; partitions before the table's first change or after the moment asked for are never planned.
 */

/** A table of a source. */
export type TrailTable = Pick<AsOfTable, "sourceId" | "schema" | "table">;

/** A table and the buckets its changes can be in that have partitions: its source's own ('') and its own. */
export type TablePlace = TrailTable & { buckets: string[] };

/** Where a table's changes can be, looked up once for the reads of a request. */
export async function placeOf(db: Queryable, t: TrailTable): Promise<TablePlace> {
  const found = await db.execute<{ bucket: string }>(sql`
    select distinct bucket from trail_partitions
     where source_id = ${t.sourceId}::uuid and bucket in ('', ${`${t.schema}.${t.table}`})`);
  return { sourceId: t.sourceId, schema: t.schema, table: t.table, buckets: found.rows.map((row) => row.bucket) };
}

/** What the summary says of a table up to a moment. */
export type TableSpan = {
  /** The commit time of the table's first stored change (UTC text); null: the trail holds none of it. */
  firstAt: string | null;
  /** The highest id a change of the table committed at or before the moment can have; null: none. */
  lastId: string | null;
};

export async function tableSpan(db: Queryable, t: TrailTable, at: string): Promise<TableSpan> {
  const found = await db.execute<{ first_at: string | null; last_id: string | null }>(sql`
    select ${utcText("min(s.min_at)")} as first_at,
           (max(s.max_id) filter (where s.min_at <= ${at}::timestamptz))::text as last_id
      from change_segments s
     where s.source_id = ${t.sourceId}::uuid and s.schema = ${t.schema} and s."table" = ${t.table}`);
  const row = found.rows[0];
  return { firstAt: row?.first_at ?? null, lastId: row?.last_id ?? null };
}

export function sameTable(t: TrailTable, alias = "c"): SQL {
  const a = sql.raw(alias);
  return sql`${a}."table" = ${t.table} and ${a}.schema = ${t.schema} and ${a}.source_id = ${t.sourceId}::uuid`;
}

/** Commit times, inclusive; `to` null: no upper bound. */
export type Window = { from: string; to: string | null };

/**
 * `branch(relation, bounds)` for each place the table's changes committed in the window can be: each bucket of the
 * table's source that can hold them (`bounds` ends in `and `), and the default partition (`bounds` empty).
 */
export function tableBranches(t: TablePlace, window: Window, branch: (relation: SQL, bounds: SQL) => SQL): SQL[] {
  const committed =
    window.to === null
      ? sql`c.committed_at >= ${window.from}::timestamptz`
      : sql`c.committed_at between ${window.from}::timestamptz and ${window.to}::timestamptz`;
  return parentFirst([
    {
      inDefault: branch(sql`changes_default`, sql``),
      inBuckets: t.buckets.map((bucket) =>
        branch(sql`changes`, sql`${bucketBounds(t.sourceId, bucket, committed)} and `),
      ),
    },
  ]);
}

/**
 * The last TRUNCATE of the whole table committed at or before `at` (a partition's TRUNCATE empties only that
 * partition, whose rows the trail cannot tell apart, so it is not counted), read only in the commit times of the
 * summary's segments that count one: a table that was never truncated costs one look at its segments.
 */
export async function lastTruncate(db: Queryable, t: TablePlace, at: string): Promise<ChangeRow | null> {
  const found = await db.execute<{ from: string; to: string }>(sql`
    select ${utcText("s.min_at")} as "from", ${utcText("s.max_at")} as "to"
      from change_segments s
     where s.source_id = ${t.sourceId}::uuid and s.schema = ${t.schema} and s."table" = ${t.table}
       and s.truncates > 0 and s.min_at <= ${at}::timestamptz`);
  const branches: SQL[] = [];
  for (const window of found.rows) {
    branches.push(
      ...tableBranches(
        t,
        window,
        (relation, bounds) => sql`(
          select ${columns} from ${relation} c
           where ${bounds}${sameTable(t)} and c.operation = 'TRUNCATE' and c.partition_table is null
             and c.committed_at <= ${at}::timestamptz
           order by c.id desc limit 1)`,
      ),
    );
  }
  if (branches.length === 0) return null;
  const result = await db.execute<ChangeRow>(sql`${unionOf(branches, sql`page.id::bigint desc`)} limit 1`);
  return result.rows[0] ?? null;
}
