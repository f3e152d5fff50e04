import { sql, type SQL } from "drizzle-orm";
import type { Queryable } from "../db/client";
import type { Operation } from "../db/schema";
import { OPERATIONS } from "./filters";
import type { ChangeFilters } from "./params";
import { COUNT_COLUMNS, resolveScope, rowConditions, segmentConditions, summaryServes, type Scope } from "./scope";
import { inSnapshot } from "./snapshot";
import { isoTimeMillis } from "./time";

export type ActivityBucket = { start: string } & Record<Operation, number>;
export type Activity = { from: string; to: string; bucketSeconds: number; buckets: ActivityBucket[] };

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Changes of the filters over a time range by operation, in `buckets` buckets of whole minutes (the range runs
 * from the minute `from` falls in; default: the last 24 hours). From the change summary, counted by the minute of
 * the source commit, so a range costs the same whatever it holds; a primary key or a context filter, which the
 * summary does not know, counts the matching changes themselves (by their indexes).
 */
export async function changeActivity(
  db: Queryable,
  filters: ChangeFilters,
  buckets: number,
  now: Date = new Date(),
): Promise<Activity> {
  const toMs = filters.to === undefined ? now.getTime() : isoTimeMillis(filters.to);
  const fromMs = filters.from === undefined ? toMs - DAY_MS : isoTimeMillis(filters.from);
  const origin = Math.floor(fromMs / 60_000) * 60_000;
  const bucketSeconds = Math.max(60, Math.ceil((toMs - origin) / buckets / 60_000) * 60);
  const count = Math.max(1, Math.ceil((toMs - origin) / (bucketSeconds * 1000)));
  const from = filters.from ?? new Date(fromMs).toISOString();
  const to = filters.to ?? new Date(toMs).toISOString();
  const result: ActivityBucket[] = Array.from({ length: count }, (_, i) => ({
    start: new Date(origin + i * bucketSeconds * 1000).toISOString(),
    CREATE: 0,
    UPDATE: 0,
    DELETE: 0,
    TRUNCATE: 0,
  }));
  const ranged: ChangeFilters = { ...filters, from, to };
  const rows = await inSnapshot(db, async (tx) => {
    const scope = await resolveScope(tx, ranged);
    if (scope === null) return [];
    const originSql = sql`${new Date(origin).toISOString()}::timestamptz`;
    return summaryServes(scope)
      ? countSegments(tx, scope, originSql, bucketSeconds, to)
      : countRows(tx, scope, originSql, bucketSeconds);
  });
  for (const row of rows) {
    const bucket = result[row.i];
    if (bucket) bucket[row.operation] += Number(row.n);
  }
  return { from, to, bucketSeconds, buckets: result };
}

type Counted = { i: number; operation: Operation; n: string };

async function countSegments(db: Queryable, scope: Scope, origin: SQL, bucketSeconds: number, to: string) {
  // The time range of the filters cuts segments at their minute, not their changes: whole minutes are counted.
  const untimed: ChangeFilters = { ...scope.filters, from: undefined, to: undefined };
  const where = [
    ...segmentConditions({ ...scope, filters: untimed }),
    sql`s.minute >= ${origin}`,
    sql`s.minute < ${to}::timestamptz`,
  ];
  const bucket = sql`floor(extract(epoch from s.minute - ${origin}) / ${bucketSeconds})::int`;
  const wanted = scope.operations ?? OPERATIONS;
  const branches = wanted.map((operation) => {
    const counted =
      scope.filters.field === undefined
        ? sql.raw(`s.${COUNT_COLUMNS[operation]}`)
        : sql`coalesce((s.fields ->> ${scope.filters.field})::bigint, 0)`;
    return sql`select ${bucket} as i, ${operation}::text as operation, sum(${counted})::text as n
                 from change_segments s where ${sql.join(where, sql` and `)} group by 1`;
  });
  const result = await db.execute<Counted>(sql.join(branches, sql` union all `));
  return result.rows;
}

async function countRows(db: Queryable, scope: Scope, origin: SQL, bucketSeconds: number) {
  const bucket = sql`floor(extract(epoch from c.committed_at - ${origin}) / ${bucketSeconds})::int`;
  const result = await db.execute<Counted>(sql`
    select ${bucket} as i, c.operation::text as operation, count(*)::text as n
      from changes c where ${sql.join(rowConditions(scope), sql` and `)} group by 1, 2`);
  return result.rows;
}
