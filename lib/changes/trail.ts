import { sql, type SQL } from "drizzle-orm";
import type { Queryable } from "../db/client";

export type TrailTable = { schema: string; table: string; database: string; environment: string };
export type Environment = { name: string; databases: string[] };

/** How many tables a type-ahead answers with. */
const TABLES_LIMIT = 50;

/**
 * The tables the trail holds changes of, for type-ahead: `q` anywhere in `schema.table`, case-insensitively,
 * names that start with it first; with the database and environment of the source that captured them. The list's
 * environment and database filters narrow it to the tables they hold.
 */
export async function trailTables(
  db: Queryable,
  options: { q?: string; environment?: string; database?: string } = {},
): Promise<TrailTable[]> {
  const conditions: SQL[] = [];
  const q = options.q?.toLowerCase();
  const name = sql`lower(t.schema || '.' || t."table")`;
  if (q !== undefined) conditions.push(sql`strpos(${name}, ${q}) > 0`);
  if (options.environment !== undefined) conditions.push(sql`s.environment = ${options.environment}`);
  if (options.database !== undefined) conditions.push(sql`t.database = ${options.database}`);
  const where = conditions.length > 0 ? sql`where ${sql.join(conditions, sql` and `)}` : sql``;
  const first = q === undefined ? sql`true` : sql`strpos(lower(t."table"), ${q}) = 1 or strpos(${name}, ${q}) = 1`;
  const found = await db.execute<TrailTable>(sql`
    select schema, "table", database, environment from (
      select distinct t.schema, t."table", t.database, s.environment, (${first}) as first
        from trail_tables t join sources s on s.id = t.source_id ${where}) found
     order by first desc, "table", schema, database, environment
     limit ${TABLES_LIMIT}`);
  return found.rows;
}

/** The environments that have sources (whatever their names), each with its databases. */
export async function listEnvironments(db: Queryable): Promise<Environment[]> {
  const found = await db.execute<Environment>(sql`
    select environment as name, array_agg(distinct database order by database) as databases
      from sources group by environment order by environment`);
  return found.rows;
}
