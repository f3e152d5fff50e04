import { sql, type SQL } from "drizzle-orm";
import type { Queryable } from "../db/client";
import { columns, type ChangeRow } from "./change";
import { bucketBounds, parentFirst, partitionBuckets, unionOf, utcText } from "./partitions";

/** Where a change with id `id` can be: per source, the commit times of the segments whose id range holds it. */
type Window = { source_id: string; min_at: string; max_at: string };

/**
 * The change with id `id`, read only from the partitions it can be in (lib/changes/partitions.ts): the change
 * summary's segments whose id range holds it say which sources and commit times, so its id is looked up in a few
 * partitions, not in every one the trail has. Without such a segment (every stored change is in one; see
 * change-segments.ts) it is looked for everywhere, so a missing summary never hides a change.
 */
export async function findChangeRow(db: Queryable, id: string): Promise<ChangeRow | null> {
  const found = await db.execute<Window>(sql`
    select s.source_id::text as source_id, min(${utcText("s.min_at")}) as min_at, max(${utcText("s.max_at")}) as max_at
      from change_segments s where int8range(s.min_id, s.max_id, '[]') @> ${id}::bigint group by s.source_id`);
  const byId = sql`c.id = ${id}::bigint`;
  if (found.rows.length === 0) {
    return (await db.execute<ChangeRow>(sql`select ${columns} from changes c where ${byId}`)).rows[0] ?? null;
  }
  const buckets = await partitionBuckets(db);
  const inBuckets: SQL[] = [];
  for (const window of found.rows) {
    const committed = sql`c.committed_at between ${window.min_at}::timestamptz and ${window.max_at}::timestamptz`;
    for (const bucket of buckets.get(window.source_id) ?? []) {
      inBuckets.push(sql`(select ${columns} from changes c
        where ${bucketBounds(window.source_id, bucket, committed)} and ${byId})`);
    }
  }
  const inDefault = sql`(select ${columns} from changes_default c where ${byId})`;
  const branches = parentFirst([{ inDefault, inBuckets }]);
  const result = await db.execute<ChangeRow>(sql`${unionOf(branches, sql`page.id`)} limit 1`);
  return result.rows[0] ?? null;
}

/**
 * Up to `limit` changes of a source transaction after `afterSeq`, in commit order. Its changes share the commit
 * time, so each bucket's branch reads the one partition holding that time.
 */
export async function readTransaction(
  db: Queryable,
  change: Pick<ChangeRow, "source_id" | "commit_lsn" | "committed_at">,
  afterSeq: number | undefined,
  limit: number,
): Promise<ChangeRow[]> {
  const after = afterSeq === undefined ? sql`` : sql` and c.seq > ${afterSeq}::int`;
  const transaction = sql`c.source_id = ${change.source_id}::uuid and c.commit_lsn = ${change.commit_lsn}::pg_lsn`;
  const branch = (relation: SQL, bounds: SQL) => sql`(
    select ${columns} from ${relation} c where ${bounds}${transaction}${after} order by c.seq limit ${limit})`;
  const committed = sql`c.committed_at = ${change.committed_at}::timestamptz`;
  const buckets = (await partitionBuckets(db)).get(change.source_id) ?? [];
  const branches = parentFirst([
    {
      inDefault: branch(sql`changes_default`, sql``),
      inBuckets: buckets.map((bucket) =>
        branch(sql`changes`, sql`${bucketBounds(change.source_id, bucket, committed)} and `),
      ),
    },
  ]);
  const result = await db.execute<ChangeRow>(sql`${unionOf(branches, sql`page.seq`)} limit ${limit}`);
  return result.rows;
}
