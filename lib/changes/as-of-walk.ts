import { sql, type SQL } from "drizzle-orm";
import type { Queryable } from "../db/client";
import { sameTable, tableBranches, type TablePlace, type Window } from "./as-of-trail";
import { utcText } from "./partitions";

/**
 * Which keys a page of a table as of a moment holds (lib/changes/as-of.ts): the table's keys whose latest change in
 * a stretch of its changes (after its last TRUNCATE, up to the moment) is not a DELETE, in key order, with that
 * change's id. Two ways to find them:
 *
 * - **read the stretch**: every change of it, narrow (key, id, operation), grouped by key in a hash, the id doubled
 *   and 1 added for a DELETE so that the maximum carries whether the latest change deleted the row (ids are unique,
 *   so no other change ties with it). ~1 ms per thousand changes: right for most tables, ~0.85 s for 450k.
 * - **walk the sealed keys**: the sealer (lib/seals/seal.ts) keeps each sealed change's schema, table, key, id,
 *   operation and commit time in change_seals, indexed by row (`change_seals_row`). The page walks the table's
 *   distinct keys there in order, one index descent each, and takes each key's latest sealed change in the stretch,
 *   until it has the page; the changes past the chain's head (the tail, not sealed yet) are read as above, and decide
 *   their keys. A page costs a few index descents per key it passes (keys that did not exist then or were deleted
 *   are passed over), whatever the size of the table.
 *
 * The walk is taken when the summary counts at least `walkFrom` changes in the stretch and at most WALK_FROM in the
 * tail (a sealer far behind: reading the stretch costs no more), once the source's seals from before migration 0026
 * have their schema and operation (lib/seals/backfill.ts).
 */
export const WALK_FROM = 20_000;

/** How many keys a walk may pass per key of the page before the page is read instead. */
export const WALK_PASSES = 20;

/** The table's changes a page is decided by: after `truncateId` (if any), up to `lastId` and committed by `at`. */
export type Stretch = { firstAt: string; lastId: string; truncateId: string | null; at: string };

/**
 * Why a page of a table with at least `walkFrom` changes in its stretch read them all rather than walking: the sealer
 * has not sealed enough of the table yet (`unsealed`: about how many of its changes are past the chain's head), or
 * the worker is completing the source's seals from before migration 0026. Both pass; the page says so meanwhile.
 */
export type SlowRead = { changes: number; unsealed: number; because: "sealer-behind" | "seals-completing" };

/** `select primary_key, id … order by primary_key limit want`: the page's keys after `after`, and their changes. */
export async function pageKeys(
  db: Queryable,
  t: TablePlace,
  stretch: Stretch,
  after: string | null,
  want: number,
  walkFrom = WALK_FROM,
): Promise<{ keys: SQL; slow: SlowRead | null }> {
  const head = await db.execute<{ change_id: string | null; completing: boolean }>(sql`
    select (select change_id::text from seal_checkpoints where source_id = ${t.sourceId}::uuid
             order by position desc limit 1) as change_id,
           exists (select 1 from seal_row_backfill b where b.source_id = ${t.sourceId}::uuid) as completing`);
  const sealedTo = head.rows[0]?.change_id ?? null;
  const window = { from: stretch.firstAt, to: stretch.at };
  const read = (slow: SlowRead | null) => ({ keys: readKeys(t, window, stretch, null, after, want), slow });
  const counted = await db.execute<{ stretch: string | null; tail: string | null; tail_from: string | null }>(sql`
    select stretch, tail, ${utcText("tail_from")} as tail_from from (
      select sum(s.creates + s.updates + s.deletes)
               filter (where s.max_id > ${stretch.truncateId ?? "0"}::bigint and s.min_at <= ${stretch.at}::timestamptz)
               ::text as stretch,
             sum(s.creates + s.updates + s.deletes) filter (where s.max_id > ${sealedTo ?? "0"}::bigint)::text as tail,
             min(s.min_at) filter (where s.max_id > ${sealedTo ?? "0"}::bigint) as tail_from
        from change_segments s
       where s.source_id = ${t.sourceId}::uuid and s.schema = ${t.schema} and s."table" = ${t.table}) counted`);
  const count = counted.rows[0];
  const changes = Number(count?.stretch ?? 0);
  const unsealed = Number(count?.tail ?? 0);
  if (changes < walkFrom) return read(null);
  // No walk while the worker fills in the source's seals from before migration 0026 (lib/seals/backfill.ts).
  if (head.rows[0]?.completing) return read({ changes, unsealed, because: "seals-completing" });
  if (sealedTo === null || unsealed > WALK_FROM) return read({ changes, unsealed, because: "sealer-behind" });
  // A change past the head is in a segment past it, so the tail is committed no earlier than that segment's start.
  const tailFrom = count?.tail_from ?? null;
  const tail = tailFrom ? latestByKey(t, { from: tailFrom, to: stretch.at }, stretch, sealedTo, after) : null;
  const walked = await walkKeys(db, t, stretch, { sealedTo, tail, after, want });
  if (walked === null) return read(null);
  const fromTail =
    tail === null ? [] : [sql`(select primary_key, latest >> 1 as id from (${tail}) tail where latest & 1 = 0)`];
  const pairs = JSON.stringify(walked.map((key) => [key.primaryKey, key.id]));
  const sealed = sql`(
    select p ->> 0 as primary_key, (p ->> 1)::bigint as id from jsonb_array_elements(${pairs}::jsonb) p)`;
  const keys = sql`select primary_key, id from (${sql.join([sealed, ...fromTail], sql` union all `)}) keys
                    order by primary_key limit ${want}`;
  return { keys, slow: null };
}

/** Each key's latest change in the stretch (past `above`, when given) as (primary_key, latest): id * 2 + deleted. */
function latestByKey(t: TablePlace, window: Window, stretch: Stretch, above: string | null, after: string | null): SQL {
  const bounds = [
    stretch.truncateId === null ? sql`` : sql` and c.id > ${stretch.truncateId}::bigint`,
    above === null ? sql`` : sql` and c.id > ${above}::bigint`,
    after === null ? sql`` : sql` and c.primary_key > ${after}`,
  ];
  const branches = tableBranches(
    t,
    window,
    (relation, inBucket) => sql`(
      select c.primary_key, c.id, c.operation from ${relation} c
       where ${inBucket}${sameTable(t)} and c.id <= ${stretch.lastId}::bigint${sql.join(bounds, sql``)}
         and c.committed_at <= ${stretch.at}::timestamptz and c.primary_key is not null)`,
  );
  return sql`select c.primary_key, max(c.id * 2 + (c.operation = 'DELETE')::int) as latest
               from (${sql.join(branches, sql` union all `)}) c group by c.primary_key`;
}

/** The stretch read whole (`want` null: every key, unsorted, as (primary_key, latest) for the walk's tail). */
function readKeys(
  t: TablePlace,
  window: Window,
  stretch: Stretch,
  above: string | null,
  after: string | null,
  want: number | null,
): SQL {
  const latest = latestByKey(t, window, stretch, above, after);
  if (want === null) return latest;
  return sql`select primary_key, latest >> 1 as id from (${latest}) keys
              where latest & 1 = 0 order by primary_key limit ${want}`;
}

/**
 * The sealed keys walked in order (a recursive query: each step the next key in `change_seals_row`), each decided by
 * its latest sealed change in the stretch unless the tail holds the key (its keys are taken once, as a jsonb object:
 * `?` finds a key in it by binary search). The walk stops once it has `want` keys, at the table's last key, or after
 * passing `want * WALK_PASSES` keys: a table as of a moment when few of its keys existed (early in its life, a queue
 * whose rows come and go) passes over many, and is read instead (null).
 */
async function walkKeys(
  db: Queryable,
  t: TablePlace,
  stretch: Stretch,
  walk: { sealedTo: string; tail: SQL | null; after: string | null; want: number },
): Promise<{ primaryKey: string; id: string }[] | null> {
  const ofTable = sql`s.source_id = ${t.sourceId}::uuid and s.schema = ${t.schema} and s."table" = ${t.table}`;
  const first = walk.after === null ? sql`s.primary_key is not null` : sql`s.primary_key > ${walk.after}`;
  const upTo = BigInt(stretch.lastId) < BigInt(walk.sealedTo) ? stretch.lastId : walk.sealedTo;
  const fromTruncate = stretch.truncateId === null ? sql`` : sql` and s.change_id > ${stretch.truncateId}::bigint`;
  const tail = walk.tail ?? sql`select null::text as primary_key where false`;
  const passes = walk.want * WALK_PASSES;
  // In walk order: the keys that qualify and, last, the row that ended the walk (no key: the table's last was
  // passed; the key at the limit of passes). The limit stops the walk once the page is full.
  const found = await db.execute<{ primary_key: string | null; id: string | null; ended: boolean }>(sql`
    with recursive tail_set as materialized (
      select coalesce(jsonb_object_agg(primary_key, true), '{}') as keys from (${tail}) tail),
    walk (primary_key, n) as (
      (select s.primary_key, 1 from change_seals s where ${ofTable} and ${first} order by s.primary_key limit 1)
      union all
      select (select s.primary_key from change_seals s
               where ${ofTable} and s.primary_key > w.primary_key order by s.primary_key limit 1), w.n + 1
        from walk w where w.primary_key is not null and w.n < ${passes})
    select w.primary_key, v.change_id::text as id, (w.primary_key is null or w.n >= ${passes}) as ended
      from walk w cross join tail_set
      left join lateral (
        select s.change_id, s.operation from change_seals s
         where ${ofTable} and s.primary_key = w.primary_key and s.change_id <= ${upTo}::bigint${fromTruncate}
           and s.committed_at between ${stretch.firstAt}::timestamptz and ${stretch.at}::timestamptz
         order by s.change_id desc limit 1) v on true
     where (v.operation <> 'DELETE' and not (tail_set.keys ? w.primary_key)) or w.primary_key is null
        or w.n >= ${passes}
     limit ${walk.want}`);
  const end = found.rows.find((row) => row.ended);
  if (end && end.primary_key !== null) return null;
  return found.rows
    .filter((row) => !row.ended)
    .map((row) => ({ primaryKey: row.primary_key as string, id: row.id as string }));
}
