import type pg from "pg";
import type { TableRef } from "./input";

export type ReplicaIdentity = "default" | "nothing" | "full" | "index";

/** A table at the source that can be tracked. */
export type SourceTable = {
  schema: string;
  name: string;
  /** Primary key columns in key order; empty when there is none. */
  primaryKey: string[];
  hasPrimaryKey: boolean;
  replicaIdentity: ReplicaIdentity;
  /** Planner estimate (reltuples); null when the table was never analysed. */
  approxRows: number | null;
  partitioned: boolean;
  /** Its columns in table order (what column rules can name, lib/sources/column-rules.ts). */
  columns: string[];
};

const IDENTITY: Record<string, ReplicaIdentity> = { d: "default", n: "nothing", f: "full", i: "index" };

/**
 * Ordinary and partitioned root tables outside the system schemas. Partitions are left out:
 * tracking the root tracks them, and their changes are recorded as the root's.
 */
export async function listSourceTables(client: pg.Client): Promise<SourceTable[]> {
  const { rows } = await client.query<{
    schema: string;
    name: string;
    relkind: string;
    relreplident: string;
    reltuples: number;
    partition_rows: number | null;
    primary_key: string[];
    columns: string[];
  }>(`
    select n.nspname::text as schema,
           c.relname::text as name,
           c.relkind::text as relkind,
           c.relreplident::text as relreplident,
           c.reltuples::float8 as reltuples,
           (select sum(p.reltuples)::float8
              from pg_inherits i join pg_class p on p.oid = i.inhrelid
             where i.inhparent = c.oid and p.reltuples >= 0) as partition_rows,
           coalesce((select array_agg(a.attname::text order by k.ord)
                       from pg_index x
                       cross join lateral unnest(x.indkey) with ordinality as k(attnum, ord)
                       join pg_attribute a on a.attrelid = x.indrelid and a.attnum = k.attnum
                      -- key columns only: a primary key's INCLUDE columns follow them in indkey
                      where x.indrelid = c.oid and x.indisprimary and k.ord <= x.indnkeyatts), '{}') as primary_key,
           array(select a.attname::text from pg_attribute a
                  where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped order by a.attnum) as columns
      from pg_class c
      join pg_namespace n on n.oid = c.relnamespace
     where c.relkind in ('r', 'p')
       and not c.relispartition
       and n.nspname not in ('pg_catalog', 'information_schema')
       and n.nspname not like 'pg\\_toast%'
       and n.nspname not like 'pg\\_temp%'
     order by 1, 2`);
  return rows.map((row) => {
    const partitioned = row.relkind === "p";
    const estimate = partitioned ? row.partition_rows : row.reltuples;
    return {
      schema: row.schema,
      name: row.name,
      primaryKey: row.primary_key,
      hasPrimaryKey: row.primary_key.length > 0,
      replicaIdentity: IDENTITY[row.relreplident] ?? "default",
      // -1 (PostgreSQL 14+) means never vacuumed or analysed: unknown, not empty.
      approxRows: estimate === null || estimate < 0 ? null : Math.round(estimate),
      partitioned,
      columns: row.columns,
    };
  });
}

/** The requested tables that do not exist at the source (as "schema.table"). */
export function unknownTables(available: readonly SourceTable[], requested: readonly TableRef[]): string[] {
  const known = new Set(available.map((t) => `${t.schema}\u0000${t.name}`));
  return requested.filter((r) => !known.has(`${r.schema}\u0000${r.table}`)).map((r) => `${r.schema}.${r.table}`);
}
