import { sql, type SQL } from "drizzle-orm";
import type { Queryable } from "../db/client";
import { formatLsn, parseLsn } from "../replication/lsn";
import { columns, toChange, type Change, type ChangeRow } from "./change";
import { decodeCursor, encodeCursor } from "./cursor";
import { readLiveToken } from "./live";
import type { ChangeFilters, PageRequest } from "./params";
import { resolveScope, rowConditions, segmentConditions, segmentCount, uuidList, type Scope } from "./scope";
import { bucketBounds, parentFirst, partitionBuckets, unionOf, utcText } from "./partitions";
import { inSnapshot } from "./snapshot";

export type ChangePage = { changes: Change[]; nextCursor: string | null; liveToken: string };

/** Segments read at a time; doubled when that many all straddle where the list stands. */
const SEGMENTS_PER_READ = 256;

/**
 * Changes newest first (by id), filtered, keyset-paginated on id: a page costs the same at row 10 and at row
 * 10 million, and the cursor is the last id shown whatever the filters. The page, the sources and tables the
 * filters stand for and the live token (where the live tail starts: lib/changes/live.ts) come from one snapshot.
 */
export async function listChanges(db: Queryable, filters: ChangeFilters, page: PageRequest): Promise<ChangePage> {
  const before = page.cursor === undefined ? null : decodeCursor(page.cursor).id;
  return inSnapshot(db, async (tx) => {
    const liveToken = await readLiveToken(tx);
    const scope = await resolveScope(tx, filters);
    const rows = scope === null ? [] : await readChanges(tx, scope, before, page.limit + 1);
    const shown = rows.slice(0, page.limit);
    const last = shown.at(-1);
    const nextCursor = rows.length > page.limit && last ? encodeCursor(last.id) : null;
    return { changes: shown.map(toChange), nextCursor, liveToken };
  });
}

/** Up to `want` changes of the scope below id `before` (null: the newest), newest first. */
export async function readChanges(
  db: Queryable,
  scope: Scope,
  before: string | null,
  want: number,
): Promise<ChangeRow[]> {
  const conditions = rowConditions(scope);
  if (scope.filters.primaryKey !== undefined) return readByKey(db, scope, conditions, before, want);
  const summary = scope.filters.context !== undefined ? contextSummary(scope) : segmentSummary(scope);
  return readBySegments(db, summary, conditions, before === null ? null : BigInt(before), want);
}

/**
 * A primary key's changes, newest first, by the hash index on primary_key, in each bucket they can be in (a table's
 * are in the source's bucket or in the table's own): one branch per source and bucket, so that only those buckets'
 * partitions are probed, and one in the default partition (lib/changes/partitions.ts).
 */
async function readByKey(db: Queryable, scope: Scope, conditions: SQL[], before: string | null, want: number) {
  const where = sql.join(before === null ? conditions : [...conditions, sql`c.id < ${before}::bigint`], sql` and `);
  const names = scope.tables === null ? null : new Set(["", ...scope.tables.map((t) => `${t.schema}.${t.table}`)]);
  const branch = (relation: SQL, bounds: SQL) => sql`(
    select ${columns} from ${relation} c where ${bounds}${where} order by c.id desc limit ${want})`;
  const inBuckets: SQL[] = [];
  for (const [sourceId, buckets] of await partitionBuckets(db)) {
    if (scope.sourceIds !== null && !scope.sourceIds.includes(sourceId)) continue;
    for (const bucket of buckets) {
      if (names === null || names.has(bucket))
        inBuckets.push(branch(sql`changes`, sql`${bucketBounds(sourceId, bucket, sql`true`)} and `));
    }
  }
  const branches = parentFirst([{ inDefault: branch(sql`changes_default`, sql``), inBuckets }]);
  const result = await db.execute<ChangeRow>(sql`${unionOf(branches, sql`page.id::bigint desc`)} limit ${want}`);
  return result.rows;
}

/**
 * A context filter: the summary's context entries (lib/db/schema/change-summaries.ts) say which id ranges hold
 * changes with a context containing the filter's, newest first, and only those ranges are read; the other filters
 * are applied to the rows read (an entry's count is an upper bound for them, as a time range makes a segment's).
 */
function contextSummary(scope: Scope): Summary {
  const { filters, sourceIds } = scope;
  const conditions = [sql`s.context @> ${filters.context}::jsonb`];
  if (sourceIds !== null) conditions.push(sql`s.source_id in (${uuidList(sourceIds)})`);
  if (filters.from !== undefined) conditions.push(sql`s.max_at >= ${filters.from}::timestamptz`);
  if (filters.to !== undefined) conditions.push(sql`s.min_at < ${filters.to}::timestamptz`);
  return { relation: sql`change_contexts`, conditions, count: sql`s.n` };
}

/** Where a summary table (alias `s`, with source_id and id, LSN ranges) says the changes of a scope are. */
type Summary = { relation: SQL; conditions: SQL[]; count: SQL };

const segmentSummary = (scope: Scope): Summary => ({
  relation: sql`change_segments`,
  conditions: segmentConditions(scope),
  count: segmentCount(scope),
});

type Segment = {
  source_id: string;
  min_id: string;
  max_id: string;
  min_lsn: string;
  max_lsn: string;
  min_at: string;
  max_at: string;
  n: string;
};
/**
 * Where a source's changes of some segments are: an id range, the range of their commit LSNs and of their commit
 * times (UTC, fixed width: as text they sort as the times do).
 */
type Range = {
  sourceId: string;
  lo: bigint;
  hi: bigint;
  loLsn: bigint;
  hiLsn: bigint;
  minAt: string;
  maxAt: string;
  count: number;
};

/**
 * A range where at least one id in DENSE_IDS is a change the filters want is read by walking its ids (a page is
 * found within a few hundred); a sparser one by its source's LSN index, which skips other sources' ids. The planner
 * cannot tell them apart: it takes LSN and id for independent, while within a source they rise together.
 */
const DENSE_IDS = 50;

/**
 * Reads only the id ranges of the segments (lib/db/schema/change-segments.ts) that count changes of the scope,
 * newest first: segments by descending max_id until they count a page's worth; every change with an id above the
 * next segment's max_id (the frontier) is in one of them, so reading their ranges above the frontier finds all of
 * those. Fewer than wanted (a time range cuts segments, so their counts are upper bounds): the next round continues
 * below the frontier. No segment, no read: a filter that matches nothing costs one look at the summary.
 */
async function readBySegments(
  db: Queryable,
  summary: Summary,
  conditions: SQL[],
  before: bigint | null,
  want: number,
): Promise<ChangeRow[]> {
  const rows: ChangeRow[] = [];
  let buckets: Map<string, string[]> | undefined;
  let upper = before; // exclusive
  let perRead = SEGMENTS_PER_READ;
  while (rows.length < want) {
    const where = [...summary.conditions];
    if (upper !== null) where.push(sql`s.min_id < ${upper.toString()}::bigint`);
    const found = await db.execute<Segment>(sql`
      select s.source_id::text as source_id, s.min_id::text as min_id, s.max_id::text as max_id,
             s.min_lsn::text as min_lsn, s.max_lsn::text as max_lsn, ${utcText("s.min_at")} as min_at,
             ${utcText("s.max_at")} as max_at, ${summary.count}::text as n
        from ${summary.relation} s where ${sql.join(where, sql` and `)}
       order by s.max_id desc limit ${perRead}`);
    const segments = found.rows;
    if (segments.length === 0) break;
    const top = (segment: Segment) => min(BigInt(segment.max_id), upper === null ? null : upper - 1n);
    const need = want - rows.length;
    let taken = 0;
    let counted = 0;
    while (taken < segments.length && counted < need) counted += Number((segments[taken++] as Segment).n);
    // Segments reaching up to where the list stands are all read now (else the frontier would not move).
    const highest = top(segments[0] as Segment);
    while (taken < segments.length && top(segments[taken] as Segment) === highest) taken++;
    const complete = segments.length < perRead;
    const next = segments[taken];
    let frontier: bigint;
    if (next) frontier = top(next);
    else if (complete) frontier = 0n;
    else frontier = top(segments[taken - 1] as Segment);
    if (frontier === highest) {
      perRead *= 2; // every segment read straddles where the list stands: read more of them
      continue;
    }
    const ranges = mergeRanges(
      segments.slice(0, taken).map((segment) => ({
        sourceId: segment.source_id,
        lo: max(BigInt(segment.min_id), frontier + 1n),
        hi: top(segment),
        loLsn: parseLsn(segment.min_lsn),
        hiLsn: parseLsn(segment.max_lsn),
        minAt: segment.min_at,
        maxAt: segment.max_at,
        count: Number(segment.n),
      })),
    );
    if (ranges.length > 0) {
      buckets ??= await partitionBuckets(db);
      rows.push(...(await readRanges(db, conditions, ranges, buckets, need)));
    }
    if (frontier === 0n) break;
    upper = frontier + 1n;
    perRead = SEGMENTS_PER_READ;
  }
  return rows.slice(0, want);
}

/**
 * Up to `want` changes meeting the conditions in the ranges, newest first: a dense range by the primary key (or
 * (table, id)) over its ids, a sparse one also bounded by its LSNs so that the source's (source_id, commit_lsn, seq)
 * index can skip other sources' changes in between (a small source's ids are spread among a busy one's). Each range
 * is read once per bucket of its source, bounded by its commit times, and once in the default partition
 * (lib/changes/partitions.ts): only the partitions its changes can be in are opened.
 */
async function readRanges(
  db: Queryable,
  conditions: SQL[],
  ranges: Range[],
  buckets: Map<string, string[]>,
  want: number,
): Promise<ChangeRow[]> {
  const filter = conditions.length > 0 ? sql` and ${sql.join(conditions, sql` and `)}` : sql``;
  // One branch per range and bucket with its bounds as values (not a join on a list of them), so that the planner
  // sees how many rows each holds and picks its index accordingly, and prunes partitions by them.
  const groups = ranges.map((r) => {
    const dense = BigInt(r.count) * BigInt(DENSE_IDS) >= r.hi - r.lo + 1n;
    const lsn = dense
      ? sql``
      : sql` and c.commit_lsn between ${formatLsn(r.loLsn)}::pg_lsn and ${formatLsn(r.hiLsn)}::pg_lsn`;
    const ids = sql`c.id between ${r.lo.toString()}::bigint and ${r.hi.toString()}::bigint`;
    const branch = (relation: SQL, bounds: SQL) => sql`(
      select ${columns} from ${relation} c where ${bounds}${lsn} and ${ids}${filter} order by c.id desc limit ${want})`;
    const committed = sql`c.committed_at between ${r.minAt}::timestamptz and ${r.maxAt}::timestamptz`;
    return {
      inDefault: branch(sql`changes_default`, sql`c.source_id = ${r.sourceId}::uuid`),
      inBuckets: (buckets.get(r.sourceId) ?? []).map((bucket) =>
        branch(sql`changes`, bucketBounds(r.sourceId, bucket, committed)),
      ),
    };
  });
  const union = unionOf(parentFirst(groups), sql`page.id::bigint desc`);
  const result = await db.execute<ChangeRow>(sql`${union} limit ${want}`);
  return result.rows;
}

/** Per source, disjoint id ranges (their LSN ranges joined too); empty ones dropped. */
function mergeRanges(ranges: Range[]): Range[] {
  const sorted = ranges
    .filter((r) => r.lo <= r.hi)
    .sort((a, b) => (a.sourceId !== b.sourceId ? (a.sourceId < b.sourceId ? -1 : 1) : a.hi < b.hi ? 1 : -1));
  const merged: Range[] = [];
  for (const range of sorted) {
    const last = merged.at(-1);
    if (last && last.sourceId === range.sourceId && range.hi >= last.lo - 1n) {
      last.lo = min(last.lo, range.lo);
      last.loLsn = min(last.loLsn, range.loLsn);
      last.hiLsn = max(last.hiLsn, range.hiLsn);
      if (range.minAt < last.minAt) last.minAt = range.minAt;
      if (range.maxAt > last.maxAt) last.maxAt = range.maxAt;
      last.count += range.count;
    } else merged.push({ ...range });
  }
  return merged;
}

const min = (a: bigint, b: bigint | null) => (b !== null && b < a ? b : a);
const max = (a: bigint, b: bigint) => (a > b ? a : b);
