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
    // `to` can be past toMs by a few microseconds (a minute that starts before it is counted).
    const beyond = Number(/\.\d{3}(\d*)/.exec(to)?.[1] || "0") > 0 ? 1 : 0;
    if (summaryServes(scope)) return countRollups(tx, scope, origin, bucketSeconds, toMs + beyond);
    return countRows(tx, scope, sql`${new Date(origin).toISOString()}::timestamptz`, bucketSeconds);
  });
  for (const row of rows) {
    const bucket = result[row.i];
    if (bucket) bucket[row.operation] += Number(row.n);
  }
  return { from, to, bucketSeconds, buckets: result };
}

type Counted = { i: number; operation: Operation; n: string };

/**
 * From the rollups (lib/db/schema/change-summaries.ts): each bucket's whole hours from the hourly rows, its minutes
 * outside them (at the edges) from the minute rows. So a range costs the hours and edge minutes of its buckets
 * whatever the trail holds, and counts exactly what the summary's minutes sum to in the bucket (the rollups are their
 * sums). The time range of the filters cuts at minutes, not changes: whole minutes are counted, as far as the minute
 * `to` falls in.
 */
async function countRollups(db: Queryable, scope: Scope, originMs: number, bucketSeconds: number, toMs: number) {
  const periods = rollupPeriods(originMs, bucketSeconds, toMs);
  if (periods.length === 0) return [];
  const untimed: ChangeFilters = { ...scope.filters, from: undefined, to: undefined };
  const where = segmentConditions({ ...scope, filters: untimed });
  const origin = sql`${new Date(originMs).toISOString()}::timestamptz`;
  const bucket = sql`floor(extract(epoch from s.start - ${origin}) / ${bucketSeconds})::int`;
  const wanted = scope.operations ?? OPERATIONS;
  const sums = wanted.map((operation) =>
    scope.filters.field === undefined
      ? sql.raw(`sum(s.${COUNT_COLUMNS[operation]})::text`)
      : sql`sum(coalesce((s.fields ->> ${scope.filters.field})::bigint, 0))::text`,
  );
  const at = (ms: number) => sql`${new Date(ms).toISOString()}::timestamptz`;
  const values = periods.map((p) => sql`(${p.span}::int, ${at(p.from)}, ${at(p.to)})`);
  const result = await db.execute<{ i: number; n: string[] }>(sql`
    select ${bucket} as i, array[${sql.join(sums, sql`, `)}] as n
      from (values ${sql.join(values, sql`, `)}) r(span, lo, hi)
      join change_rollups s on s.span = r.span and s.start >= r.lo and s.start < r.hi
     where ${sql.join(where, sql` and `)}
     group by 1`);
  return result.rows.flatMap((row) =>
    wanted.map((operation, k): Counted => ({ i: row.i, operation, n: row.n[k] ?? "0" })),
  );
}

const HOUR_MS = 3_600_000;

/**
 * The rollup periods that make up the buckets exactly: the whole hours inside each bucket (span 3600) and the minutes
 * around them (span 60), adjacent ones joined. Buckets start at `originMs` (a whole minute) and are `bucketSeconds`
 * long (whole minutes); the last one ends at the end of the minute `toMs` falls in (or at `toMs`, a whole minute).
 */
export function rollupPeriods(
  originMs: number,
  bucketSeconds: number,
  toMs: number,
): Array<{ span: 60 | 3600; from: number; to: number }> {
  const end = Math.ceil(toMs / 60_000) * 60_000;
  const periods: Array<{ span: 60 | 3600; from: number; to: number }> = [];
  const last = new Map<number, { span: 60 | 3600; from: number; to: number }>();
  const add = (span: 60 | 3600, from: number, to: number) => {
    if (from >= to) return;
    const before = last.get(span);
    if (before && before.to === from) before.to = to;
    else {
      const period = { span, from, to };
      periods.push(period);
      last.set(span, period);
    }
  };
  for (let a = originMs; a < end; a += bucketSeconds * 1000) {
    const b = Math.min(a + bucketSeconds * 1000, end);
    const firstHour = Math.ceil(a / HOUR_MS) * HOUR_MS;
    const lastHour = Math.floor(b / HOUR_MS) * HOUR_MS;
    if (firstHour < lastHour) {
      add(60, a, firstHour);
      add(3600, firstHour, lastHour);
      add(60, lastHour, b);
    } else add(60, a, b);
  }
  return periods;
}

async function countRows(db: Queryable, scope: Scope, origin: SQL, bucketSeconds: number) {
  const bucket = sql`floor(extract(epoch from c.committed_at - ${origin}) / ${bucketSeconds})::int`;
  const result = await db.execute<Counted>(sql`
    select ${bucket} as i, c.operation::text as operation, count(*)::text as n
      from changes c where ${sql.join(rowConditions(scope), sql` and `)} group by 1, 2`);
  return result.rows;
}
