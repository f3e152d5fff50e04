import { sql } from "drizzle-orm";
import type { Queryable } from "../db/client";
import { Invalid, NotFound } from "../errors";

/** The one table of one source that a time-travel read is of. */
export type AsOfTable = { sourceId: string; database: string; schema: string; table: string };

/** What the API takes: the table as the change filters take it, and its database or source. */
export type AsOfTableRef = { table: string; database?: string; sourceId?: string };

function invalid(path: string, message: string): Invalid {
  return new Invalid(`${path}: ${message}`, [{ path, message }]);
}

/**
 * The source and the exact table a reference stands for, among the tables the trail or a baseline holds: a typed
 * `items` or `public.items`, any case. Several candidates are refused (400 naming the parameter to narrow), since a
 * table's state mixes nothing across tables or sources.
 */
export async function resolveAsOfTable(db: Queryable, ref: AsOfTableRef): Promise<AsOfTable> {
  const sourceId = await resolveSource(db, ref);
  const found = await db.execute<{ schema: string; table: string; database: string }>(sql`
    select schema, "table", s.database from (
      select schema, "table" from trail_tables where source_id = ${sourceId}::uuid
      union select schema, "table" from baselines where source_id = ${sourceId}::uuid and status = 'done'
    ) t cross join (select database from sources where id = ${sourceId}::uuid) s
     where lower(t."table") = lower(${ref.table}) or lower(t.schema || '.' || t."table") = lower(${ref.table})
     order by (t.schema || '.' || t."table") = ${ref.table} desc, t."table" = ${ref.table} desc, schema, "table"`);
  const exact = found.rows.filter((row) => `${row.schema}.${row.table}` === ref.table);
  const rows = exact.length === 1 ? exact : found.rows;
  const [first] = rows;
  if (!first) throw new NotFound(`Table ${ref.table}`);
  if (rows.length > 1) {
    const names = rows.map((row) => `${row.schema}.${row.table}`).join(", ");
    throw invalid("table", `stands for several tables (${names}); give it as schema.table`);
  }
  return { sourceId, ...first };
}

async function resolveSource(db: Queryable, ref: AsOfTableRef): Promise<string> {
  if (ref.sourceId !== undefined) {
    const found = await db.execute<{ id: string }>(sql`select id::text as id from sources where id = ${ref.sourceId}`);
    if (found.rows.length === 0) throw new NotFound("Database");
    return ref.sourceId;
  }
  if (ref.database === undefined) throw invalid("database", "is required (or give sourceId)");
  const found = await db.execute<{ id: string }>(sql`
    select id::text as id from sources
     where database = ${ref.database}
        or id in (select source_id from trail_tables where database = ${ref.database})
     order by id`);
  const [first] = found.rows;
  if (!first) throw new NotFound(`Database ${ref.database}`);
  if (found.rows.length > 1) {
    throw invalid("database", "several connected databases have this name; give sourceId to pick one");
  }
  return first.id;
}
