import { sql, type SQL } from "drizzle-orm";
import type { Queryable } from "../db/client";
import { isoTimestampSql } from "../db/iso-timestamp";

/**
 * The trail is partitioned by (source_id, bucket, committed_at) (lib/db/schema/changes.ts) and a store a few years
 * old holds hundreds of partitions. A query that names neither bucket nor commit time plans and probes every one of
 * them, so the reads that can (a page of the list, a key's changes, one change, a transaction) are split into one
 * branch per source and bucket with the commit times as values, and the planner opens only the partitions those
 * fall in. (PostgreSQL prunes a range partition key's later columns only under an equality on the earlier ones:
 * `bucket in (…)` prunes nothing.)
 *
 * The default partition, where rows wait whose partition is not made yet, is read by a branch of its own with no
 * bucket or time bound, and the bucket branches leave it out: a row the partition keeper moves out of it after a
 * reader's snapshot began is still seen there, once (partitions are looked up in the catalog as it is now, rows in
 * the snapshot).
 */

/** The buckets each source has partitions for. */
export async function partitionBuckets(db: Queryable): Promise<Map<string, string[]>> {
  const found = await db.execute<{ source_id: string; buckets: string[] }>(sql`
    select source_id::text as source_id, array_agg(distinct bucket) as buckets from trail_partitions group by 1`);
  return new Map(found.rows.map((row) => [row.source_id, row.buckets]));
}

/**
 * Bounds that keep a branch to the partitions of one bucket of a source, and out of the default partition. The
 * partition is told by its oid as a number: on `tableoid` itself the planner takes every row of a relation for one
 * value, so it estimates `tableoid <> …` to match no row, and plans the branch for one row (a sort spilling to disk
 * where a hash would do, an index walked for a row it expects soon).
 */
export function bucketBounds(sourceId: string, bucket: string, committed: SQL): SQL {
  return sql`c.source_id = ${sourceId}::uuid and c.bucket = ${bucket} and ${committed}
    and c.tableoid::oid::int8 <> 'changes_default'::regclass::oid::int8`;
}

/**
 * Branches in the order PostgreSQL is to lock their relations: every branch on `changes` before any on
 * `changes_default`. A statement locks the relations it names in the order it names them, and the expirer's and the
 * keeper's DDL lock `changes` before its default partition (or take the default partition first and then need no
 * lock a reader holds): a reader naming `changes_default` first held it while waiting for `changes` behind a DDL
 * that waited for the default partition, a deadlock (seen as the worker's "sealing failed: deadlock detected").
 */
export function parentFirst(groups: { inDefault: SQL; inBuckets: SQL[] }[]): SQL[] {
  return [...groups.flatMap((group) => group.inBuckets), ...groups.map((group) => group.inDefault)];
}

/** A time as fixed-width UTC text (microseconds): it sorts as the times do and reads back exactly. */
export const utcText = (column: string) => sql.raw(isoTimestampSql(column));

/** `select * from (branch union all …) page order by …`: the branches' rows in one order. */
export function unionOf(branches: SQL[], order: SQL): SQL {
  return sql`select * from (${sql.join(branches, sql` union all `)}) page order by ${order}`;
}
