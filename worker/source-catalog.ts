import type pg from "pg";
import type { Pgoutput } from "pg-logical-replication";
import { isBuiltinType, type ValueType } from "../lib/replication/decode";
import { relationKeyColumns, type CatalogIndex } from "../lib/replication/keys";
import type { CatalogLookups } from "../lib/replication/rows";
import { resolveType, type CatalogType } from "../lib/replication/types";

/**
 * What the rows of a relation need beyond the relation message, looked up in the source catalog
 * when the relation message is handled (the server sends one before a relation's first change in
 * a session and again after DDL on it), before the changes that follow it are built:
 *
 * - Key columns: from the message's own key flags where they say what the key was when the
 *   change was made (REPLICA IDENTITY DEFAULT or USING INDEX), else (FULL, NOTHING) from the
 *   catalog NOW; see lib/replication/keys.ts for what that means for old changes.
 * - Column types that are not built-in: resolved in the catalog NOW (a domain to its base
 *   type, an array to its element type and delimiter). What a type OID stands for does not
 *   change while the type exists; a type dropped since the change decodes as text.
 */
export class CatalogCache {
  private readonly keys = new Map<number, string[]>();
  /** Non-built-in column types by (unsigned) type OID. */
  private readonly types = new Map<number, ValueType>();
  /** For the TransactionBuilder. */
  readonly lookups: CatalogLookups = {
    keys: (oid) => this.keys.get(oid),
    types: (oid) => this.types.get(oid >>> 0),
  };

  /** Looks up (again) what `relation` needs, on the session's catalog connection. */
  async load(client: pg.ClientBase, relation: Pgoutput.MessageRelation): Promise<void> {
    this.keys.set(relation.relationOid, relationKeyColumns(relation, await keyIndexes(client, relation.relationOid)));
    const typeOids = [...new Set(relation.columns.map((column) => column.typeOid >>> 0))].filter(
      (oid) => !isBuiltinType(oid),
    );
    if (typeOids.length === 0) return;
    const rows = await catalogTypes(client, typeOids);
    for (const oid of typeOids) this.types.set(oid, resolveType(oid, rows));
  }
}

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
