import type pg from "pg";
import type { CatalogIndex } from "../replication/keys";
import type { TableRef } from "./input";

/**
 * What building the rows of a source relation needs beyond its relation message, as the source
 * catalog has it when it is read. The worker reads it when it handles a relation message
 * (worker/source-catalog.ts); the store remembers it (remembered-relations.ts) so that changes of
 * a relation dropped before the worker decodes them are still labelled from it.
 */
export type RelationFacts = {
  /** pg_class OID, unsigned. */
  oid: number;
  schema: string;
  table: string;
  /** Its primary key and replica identity index (lib/replication/keys.ts picks the key). */
  indexes: CatalogIndex[];
  /** Its generated columns (stored and virtual), in column order. */
  generatedColumns: string[];
  /** A partition: the partitioned table at the top of its tree, which its changes are recorded as. */
  root: PartitionRoot | null;
};

export type PartitionRoot = {
  schema: string;
  table: string;
  /** The root's columns in its own order (a partition's may differ), for the images' key order. */
  columns: string[];
};

type FactsRow = {
  oid: string;
  schema: string;
  table: string;
  indexes: CatalogIndex[];
  generated_columns: string[];
  root_schema: string | null;
  root_table: string | null;
  root_columns: string[] | null;
};

// Key columns (not INCLUDE columns) in index order, with the CatalogIndex field names.
const FACTS_SQL = `
  select c.oid::text as oid, n.nspname::text as schema, c.relname::text as table,
         (select coalesce(json_agg(json_build_object(
                   'primary', i.indisprimary, 'replicaIdentity', i.indisreplident, 'immediate', i.indimmediate,
                   'columns', (select coalesce(json_agg(json_build_object('name', a.attname,
                                                                          'generated', a.attgenerated <> '')
                                                        order by k.position), '[]')
                                 from unnest(i.indkey) with ordinality as k(attnum, position)
                                 join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
                                where k.position <= i.indnkeyatts))
                 order by i.indexrelid), '[]')
            from pg_index i
           where i.indrelid = c.oid and (i.indisprimary or i.indisreplident)) as indexes,
         array(select a.attname::text from pg_attribute a
                where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped and a.attgenerated <> ''
                order by a.attnum) as generated_columns,
         rn.nspname::text as root_schema, rc.relname::text as root_table,
         case when rc.oid is not null then
           array(select a.attname::text from pg_attribute a
                  where a.attrelid = rc.oid and a.attnum > 0 and not a.attisdropped order by a.attnum)
         end as root_columns
    from pg_class c
    join pg_namespace n on n.oid = c.relnamespace
    left join pg_class rc on c.relispartition and rc.oid = pg_partition_root(c.oid)
    left join pg_namespace rn on rn.oid = rc.relnamespace
   where c.oid = any($1::oid[]) and c.relkind in ('r', 'p')
   order by c.oid`;

function toFacts(row: FactsRow): RelationFacts {
  return {
    oid: Number(row.oid),
    schema: row.schema,
    table: row.table,
    indexes: row.indexes,
    generatedColumns: row.generated_columns,
    root:
      row.root_schema !== null && row.root_table !== null
        ? { schema: row.root_schema, table: row.root_table, columns: row.root_columns ?? [] }
        : null,
  };
}

/** The facts of the given relations (OIDs as the stream has them); a relation the catalog no longer has is left out. */
export async function relationFacts(client: pg.ClientBase, oids: readonly number[]): Promise<RelationFacts[]> {
  if (oids.length === 0) return [];
  // The library reads OIDs as signed 32-bit integers.
  const { rows } = await client.query<FactsRow>(FACTS_SQL, [oids.map((oid) => String(oid >>> 0))]);
  return rows.map(toFacts);
}

/** The facts of the relations `chosen` selects (`select oid …`) and of everything below them. */
async function treeFacts(client: pg.ClientBase, chosen: string, params: unknown[]): Promise<RelationFacts[]> {
  const { rows } = await client.query<{ oid: string }>(
    `with recursive tree as (
       ${chosen}
       union
       select i.inhrelid from pg_inherits i join tree on i.inhparent = tree.oid
     )
     select oid::text as oid from tree`,
    params,
  );
  return relationFacts(
    client,
    rows.map((row) => Number(row.oid)),
  );
}

/**
 * The facts of tables chosen for tracking and of everything below them (partitions, inheritance
 * children): what their changes can arrive as.
 */
export async function trackedRelationFacts(
  client: pg.ClientBase,
  tables: readonly TableRef[],
): Promise<RelationFacts[]> {
  if (tables.length === 0) return [];
  return treeFacts(
    client,
    `select c.oid
       from unnest($1::text[], $2::text[]) as t(schema, name)
       join pg_namespace n on n.nspname = t.schema
       join pg_class c on c.relnamespace = n.oid and c.relname = t.name`,
    [tables.map((t) => t.schema), tables.map((t) => t.table)],
  );
}

/** The facts of a publication's tables and of everything below them (partitions attached since included). */
export async function publishedRelationFacts(client: pg.ClientBase, publicationName: string): Promise<RelationFacts[]> {
  return treeFacts(
    client,
    `select pr.prrelid as oid
       from pg_publication p join pg_publication_rel pr on pr.prpubid = p.oid
      where p.pubname = $1`,
    [publicationName],
  );
}

/** Whether the publication publishes the relation now (itself, as a partition, or as an inheritance child). */
export async function publishes(client: pg.ClientBase, publicationName: string, oid: number): Promise<boolean> {
  const { rows } = await client.query<{ published: boolean }>(
    `select exists (
       select 1 from pg_publication_tables t
         join pg_namespace n on n.nspname = t.schemaname
         join pg_class c on c.relnamespace = n.oid and c.relname = t.tablename
        where t.pubname = $1 and c.oid = $2::oid) as published`,
    [publicationName, String(oid >>> 0)],
  );
  return rows[0]?.published ?? false;
}
