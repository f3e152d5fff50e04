import type pg from "pg";
import { quoteIdent } from "../../sources/sql";
import { tableKey } from "./plan";
import type { ColumnInfo, TableInfo } from "./literal";

type ColumnRow = {
  name: string;
  type: string;
  json: boolean;
  array: boolean;
  element_json: boolean;
  delimiter: string;
  generated: boolean;
  identity_always: boolean;
};

// A domain is looked through one level to its base type (a domain over jsonb is written as jsonb's text).
const COLUMNS_SQL = `
  with cols as (
    select a.attnum, a.attname, format_type(a.atttypid, a.atttypmod) as type, a.attgenerated::text as generated,
           a.attidentity::text as identity, case when t.typtype = 'd' then t.typbasetype else t.oid end as base
    from pg_attribute a join pg_type t on t.oid = a.atttypid
    where a.attrelid = $1::regclass and a.attnum > 0 and not a.attisdropped)
  select c.attname as name, c.type,
         b.typname in ('json', 'jsonb') as json,
         b.typcategory = 'A' as array,
         coalesce(e.typname in ('json', 'jsonb'), false) as element_json,
         coalesce(e.typdelim::text, ',') as delimiter,
         c.generated <> '' as generated,
         c.identity = 'a' as identity_always
  from cols c join pg_type b on b.oid = c.base
  left join pg_type e on b.typcategory = 'A' and e.oid = b.typelem
  order by c.attnum`;

// The primary key, else the replica identity index: what the worker keys the table's changes by.
const KEY_SQL = `
  select a.attname as name
  from (select i.indkey::int2[] as keys from pg_index i
        where i.indrelid = $1::regclass and (i.indisprimary or i.indisreplident)
        order by i.indisprimary desc limit 1) k
  cross join lateral unnest(k.keys) with ordinality as u(attnum, position)
  join pg_attribute a on a.attrelid = $1::regclass and a.attnum = u.attnum
  order by u.position`;

/** One table's columns and key from the source catalog; null when the table is not there. */
export async function readTableInfo(client: pg.ClientBase, schema: string, table: string): Promise<TableInfo | null> {
  const name = `${quoteIdent(schema)}.${quoteIdent(table)}`;
  const found = await client.query<{ oid: string | null }>("select to_regclass($1)::oid::text as oid", [name]);
  if (!found.rows[0]?.oid) return null;
  const columns = await client.query<ColumnRow>(COLUMNS_SQL, [name]);
  const key = await client.query<{ name: string }>(KEY_SQL, [name]);
  return {
    schema,
    table,
    columns: columns.rows.map((row): ColumnInfo => ({
      name: row.name,
      type: row.type,
      json: row.json,
      array: row.array,
      elementJson: row.element_json,
      delimiter: row.delimiter,
      generated: row.generated,
      identityAlways: row.identity_always,
    })),
    key: key.rows.map((row) => row.name),
  };
}

/** Every table the changes touch, keyed by tableKey(schema, table). */
export async function readTables(
  client: pg.ClientBase,
  refs: ReadonlyArray<{ schema: string; table: string }>,
): Promise<Map<string, TableInfo | null>> {
  const tables = new Map<string, TableInfo | null>();
  for (const ref of refs) {
    const key = tableKey(ref.schema, ref.table);
    if (!tables.has(key)) tables.set(key, await readTableInfo(client, ref.schema, ref.table));
  }
  return tables;
}
