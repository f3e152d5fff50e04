import type pg from "pg";
import type { CatalogType } from "../replication/types";

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
