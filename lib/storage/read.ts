import { sql } from "drizzle-orm";
import type { Queryable } from "../db/client";
import type { HeldSpan, PartitionSize } from "../retention/forecast";

/**
 * What the Storage page is made of, read from the store and its catalog. Sizes are pg_total_relation_size
 * (table, indexes and TOAST); change counts come from the change summary (change_segments), which counts every
 * stored change exactly, so nothing here reads the trail itself.
 */

/** Changes of one table of one source committed on one UTC day. */
export type DayGroup = { sourceId: string; table: string; day: string; rows: number };

export type SourceInfo = { id: string; name: string; database: string; environment: string; removed: boolean };

/** Tables that are not the trail but exist for it, grouped as the page shows them. */
export const OVERHEAD_GROUPS = [
  { name: "Seals", tables: ["change_seals", "seal_checkpoints"] },
  { name: "Change summary", tables: ["change_segments", "change_rollups", "change_contexts", "trail_tables"] },
  { name: "Retention catalog", tables: ["trail_partitions", "trail_expiries", "retention_rules", "trail_holds"] },
] as const;

export type StorageFacts = {
  partitions: Omit<PartitionSize, "rows" | "environment">[];
  /** The active holds (lib/holds): what they keep, retention does not free. */
  holds?: HeldSpan[];
  /**
   * Every leaf of `changes`: its cataloged partitions, and the rest (the default partition; the table itself before
   * it was partitioned), which hold changes no partition of the catalog was there for.
   */
  leaves: { name: string; bytes: number; cataloged: boolean }[];
  groups: DayGroup[];
  sources: SourceInfo[];
  overhead: { name: string; bytes: number }[];
  databaseBytes: number;
};

const num = (value: string | number | null) => Number(value ?? 0);

/** Reads everything the report needs in one snapshot of the store. */
export async function readStorageFacts(db: Queryable): Promise<StorageFacts> {
  const partitions = await db.execute<{
    name: string;
    source_id: string;
    bucket: string;
    from_at: Date;
    to_at: Date;
    bytes: string | null;
  }>(sql`
    select p.name, p.source_id, p.bucket, p.from_at, p.to_at,
           pg_total_relation_size(to_regclass(format('%I', p.name)))::text as bytes
      from trail_partitions p
     order by p.source_id, p.bucket, p.from_at`);
  const leaves = await db.execute<{ name: string; bytes: string; cataloged: boolean }>(sql`
    select c.relname as name, pg_total_relation_size(t.relid)::text as bytes,
           exists (select 1 from trail_partitions p where to_regclass(format('%I', p.name)) = t.relid) as cataloged
      from pg_partition_tree('changes') t join pg_class c on c.oid = t.relid
     where t.isleaf`);
  const groups = await db.execute<{ source_id: string; table: string; day: string; rows: string }>(sql`
    select source_id, schema || '.' || "table" as "table",
           to_char(date_trunc('day', minute, 'UTC'), 'YYYY-MM-DD') as day,
           sum(creates + updates + deletes + truncates)::text as rows
      from change_segments group by 1, 2, 3`);
  const sources = await db.execute<SourceInfo>(sql`
    select id, name, database, environment, removed_at is not null as removed from sources`);
  const names = OVERHEAD_GROUPS.flatMap((group) => group.tables);
  const overhead = await db.execute<{ name: string; bytes: string | null }>(sql`
    select name, pg_total_relation_size(to_regclass(format('%I', name)))::text as bytes
      from unnest(${`{${names.join(",")}}`}::text[]) as name`);
  const holds = await db.execute<{ source_id: string; from_at: Date; to_at: Date }>(sql`
    select source_id, from_at, to_at from trail_holds where released_at is null`);
  const database = await db.execute<{ bytes: string }>(sql`select pg_database_size(current_database())::text as bytes`);
  return {
    partitions: partitions.rows
      // A catalog row whose table is not there (dropped by hand) holds nothing.
      .filter((row) => row.bytes !== null)
      .map((row) => ({
        name: row.name,
        sourceId: row.source_id,
        bucket: row.bucket,
        fromAt: new Date(row.from_at),
        toAt: new Date(row.to_at),
        bytes: num(row.bytes),
      })),
    holds: holds.rows.map((row) => ({
      sourceId: row.source_id,
      fromAt: new Date(row.from_at),
      toAt: new Date(row.to_at),
    })),
    leaves: leaves.rows.map((row) => ({ name: row.name, bytes: num(row.bytes), cataloged: row.cataloged })),
    groups: groups.rows.map((row) => ({
      sourceId: row.source_id,
      table: row.table,
      day: row.day,
      rows: num(row.rows),
    })),
    sources: sources.rows,
    overhead: overhead.rows.map((row) => ({ name: row.name, bytes: num(row.bytes) })),
    databaseBytes: num(database.rows[0]?.bytes ?? 0),
  };
}
