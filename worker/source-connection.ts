import pg from "pg";
import type { CatalogIndex } from "../lib/replication/keys";
import type { CatalogType } from "../lib/replication/types";

/**
 * The primary key and the replica identity index of a relation as the source catalog has them
 * now, key columns (not INCLUDE columns) in index order. lib/replication/keys.ts decides what
 * the stream's own key flags leave to them.
 */
export async function keyIndexes(client: pg.ClientBase, relationOid: number): Promise<CatalogIndex[]> {
  const { rows } = await client.query<{
    primary: boolean;
    replica_identity: boolean;
    immediate: boolean;
    columns: Array<{ name: string; generated: boolean }>;
  }>(
    `select i.indisprimary as primary, i.indisreplident as replica_identity, i.indimmediate as immediate,
            (select coalesce(json_agg(json_build_object('name', a.attname, 'generated', a.attgenerated <> '')
                                      order by k.position), '[]')
               from unnest(i.indkey) with ordinality as k(attnum, position)
               join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
              where k.position <= i.indnkeyatts) as columns
       from pg_index i
      where i.indrelid = $1::oid and (i.indisprimary or i.indisreplident)`,
    // The library reads the OID as a signed 32-bit integer.
    [String(relationOid >>> 0)],
  );
  return rows.map((row) => ({
    primary: row.primary,
    replicaIdentity: row.replica_identity,
    immediate: row.immediate,
    columns: row.columns,
  }));
}

/**
 * pg_type rows of the given type OIDs and of every type they are built on (a domain's base type,
 * an array's element type, recursively): what lib/replication/types.ts resolves them with.
 */
export async function catalogTypes(
  client: pg.ClientBase,
  typeOids: readonly number[],
): Promise<Map<number, CatalogType>> {
  const { rows } = await client.query<{
    oid: string;
    domain_base: string | null;
    array_element: string | null;
    element_delimiter: string | null;
  }>(
    `with recursive closure(oid) as (
       select unnest($1::oid[])
       union
       select v.next
         from closure c
         join pg_type t on t.oid = c.oid
         cross join lateral (values (t.typbasetype), (t.typelem)) as v(next)
        where v.next <> 0
     )
     select t.oid::text as oid,
            case when t.typtype = 'd' then t.typbasetype::text end as domain_base,
            case when e.typarray = t.oid then t.typelem::text end as array_element,
            case when e.typarray = t.oid then e.typdelim::text end as element_delimiter
       from closure c
       join pg_type t on t.oid = c.oid
       left join pg_type e on e.oid = t.typelem and t.typlen = -1`,
    [typeOids.map((oid) => String(oid >>> 0))],
  );
  const types = new Map<number, CatalogType>();
  for (const row of rows) {
    const oid = Number(row.oid);
    types.set(oid, {
      oid,
      domainBase: row.domain_base === null ? null : Number(row.domain_base),
      arrayElement: row.array_element === null ? null : Number(row.array_element),
      elementDelimiter: row.element_delimiter,
    });
  }
  return types;
}

/** The slot's confirmed position: acknowledging it again is always safe. */
export async function slotConfirmedLsn(client: pg.ClientBase, slotName: string): Promise<string> {
  const { rows } = await client.query<{ confirmed: string | null }>(
    "select confirmed_flush_lsn::text as confirmed from pg_replication_slots " +
      "where slot_name = $1 and database = current_database()",
    [slotName],
  );
  const [slot] = rows;
  if (!slot) throw new Error(`Replication slot ${slotName} does not exist in this database`);
  return slot.confirmed ?? "0/0";
}
