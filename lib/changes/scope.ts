import { sql, type SQL } from "drizzle-orm";
import type { Queryable } from "../db/client";
import type { Operation } from "../db/schema";
import { OPERATIONS } from "./filters";
import type { ChangeFilters } from "./params";
import { primaryKeyCandidates } from "./primary-key";

type TableName = { schema: string; table: string };

/**
 * The filters resolved against what the store holds: the sources an environment, database or source id stands
 * for, the exact tables a typed table name stands for (case-insensitively), the operations left once `field`
 * (which only an update has) is taken into account. Null from resolveScope when nothing can match.
 */
export type Scope = {
  filters: ChangeFilters;
  /** The sources the changes can come from; null for every source. */
  sourceIds: string[] | null;
  /** The tables the changes can be of; null for every table. */
  tables: TableName[] | null;
  /** The operations the changes can have; null for any. */
  operations: Operation[] | null;
};

export const COUNT_COLUMNS = {
  CREATE: "creates",
  UPDATE: "updates",
  DELETE: "deletes",
  TRUNCATE: "truncates",
} as const;

export async function resolveScope(db: Queryable, filters: ChangeFilters): Promise<Scope | null> {
  const operations = resolveOperations(filters);
  if (operations?.length === 0) return null;
  const sourceIds = await resolveSources(db, filters);
  if (sourceIds?.length === 0) return null;
  const tables = filters.table === undefined ? null : await resolveTables(db, filters.table, sourceIds);
  if (tables?.length === 0) return null;
  return { filters, sourceIds, tables, operations };
}

function resolveOperations(filters: ChangeFilters): Operation[] | null {
  const given = filters.operation === undefined ? null : ([] as Operation[]).concat(filters.operation);
  if (filters.field === undefined) return given === null || given.length === OPERATIONS.length ? null : given;
  // Only an update changes fields.
  return given === null || given.includes("UPDATE") ? ["UPDATE"] : [];
}

async function resolveSources(db: Queryable, filters: ChangeFilters): Promise<string[] | null> {
  const { environment, database, sourceId } = filters;
  if (environment === undefined && database === undefined && sourceId === undefined) return null;
  const conditions: SQL[] = [];
  if (environment !== undefined) conditions.push(sql`environment = ${environment}`);
  if (sourceId !== undefined) conditions.push(sql`id = ${sourceId}::uuid`);
  // By the database name the changes carry (copied from their source when they were captured).
  if (database !== undefined) {
    conditions.push(sql`id in (select source_id from trail_tables where database = ${database})`);
  }
  const found = await db.execute<{ id: string }>(
    sql`select id::text as id from sources where ${sql.join(conditions, sql` and `)} order by id`,
  );
  return found.rows.map((row) => row.id);
}

/**
 * "items" stands for a table of that name in any schema, "public.items" for schema public's (or a table literally
 * named "public.items"), both case-insensitively, among the tables the trail holds (trail_tables). The exact names
 * then pin `table` in the row conditions, so the (table, id) index serves them.
 */
async function resolveTables(db: Queryable, typed: string, sourceIds: string[] | null): Promise<TableName[]> {
  const bySource = sourceIds === null ? sql`` : sql` and source_id in (${uuidList(sourceIds)})`;
  const found = await db.execute<TableName>(sql`
    select distinct schema, "table" from trail_tables
     where (lower("table") = lower(${typed}) or lower(schema || '.' || "table") = lower(${typed}))${bySource}
     order by schema, "table"`);
  return found.rows;
}

export function uuidList(ids: readonly string[]): SQL {
  return sql.join(
    ids.map((id) => sql`${id}::uuid`),
    sql`, `,
  );
}

function textList(values: readonly string[]): SQL {
  return sql.join(
    values.map((value) => sql`${value}`),
    sql`, `,
  );
}

/** `(schema, table)` in the list, with `table` alone first so that an index on it can serve the condition. */
function tableCondition(alias: string, tables: readonly TableName[]): SQL {
  const a = sql.raw(alias);
  const names = [...new Set(tables.map((t) => t.table))];
  const pairs = tables.map((t) => sql`(${a}.schema = ${t.schema} and ${a}."table" = ${t.table})`);
  return sql`${a}."table" in (${textList(names)}) and (${sql.join(pairs, sql` or `)})`;
}

/** The conditions a change (alias `c`) must meet: every filter, exactly. */
export function rowConditions(scope: Scope): SQL[] {
  const { filters, sourceIds, tables, operations } = scope;
  const conditions: SQL[] = [];
  if (sourceIds !== null) conditions.push(sql`c.source_id in (${uuidList(sourceIds)})`);
  if (filters.environment !== undefined) conditions.push(sql`c.environment = ${filters.environment}`);
  if (filters.database !== undefined) conditions.push(sql`c.database = ${filters.database}`);
  if (tables !== null) conditions.push(tableCondition("c", tables));
  if (operations !== null) {
    const list = sql.join(
      operations.map((operation) => sql`${operation}::operation`),
      sql`, `,
    );
    conditions.push(sql`c.operation in (${list})`);
  }
  if (filters.primaryKey !== undefined) {
    // Equalities joined by OR: each one a lookup in the hash index on primary_key.
    const keys = primaryKeyCandidates(filters.primaryKey).map((key) => sql`c.primary_key = ${key}`);
    conditions.push(sql`(${sql.join(keys, sql` or `)})`);
  }
  if (filters.from !== undefined) conditions.push(sql`c.committed_at >= ${filters.from}::timestamptz`);
  if (filters.to !== undefined) conditions.push(sql`c.committed_at < ${filters.to}::timestamptz`);
  // The GIN index on context is partial: its predicate must be spelled out for the planner to use it.
  if (filters.context !== undefined) {
    conditions.push(sql`c.context @> ${filters.context}::jsonb and c.context <> '{}'::jsonb`);
  }
  if (filters.field !== undefined) conditions.push(sql`c.changed_fields @> array[${filters.field}]::text[]`);
  return conditions;
}

/** Whether the change summary can say where a filtered list's rows are (and how many there are). */
export function summaryServes(scope: Scope): boolean {
  return scope.filters.primaryKey === undefined && scope.filters.context === undefined;
}

/** The conditions on a segment (alias `s`) that may hold changes of the scope; it holds some when its count > 0. */
export function segmentConditions(scope: Scope): SQL[] {
  const { filters, sourceIds, tables } = scope;
  const conditions: SQL[] = [sql`${segmentCount(scope)} > 0`];
  if (sourceIds !== null) conditions.push(sql`s.source_id in (${uuidList(sourceIds)})`);
  if (tables !== null) conditions.push(tableCondition("s", tables));
  if (filters.from !== undefined) conditions.push(sql`s.max_at >= ${filters.from}::timestamptz`);
  if (filters.to !== undefined) conditions.push(sql`s.min_at < ${filters.to}::timestamptz`);
  return conditions;
}

/**
 * How many changes of the scope a segment (alias `s`) counts: exact, except that a segment only partly inside the
 * time range counts all of its changes.
 */
export function segmentCount(scope: Scope): SQL {
  if (scope.filters.field !== undefined) return sql`coalesce((s.fields ->> ${scope.filters.field})::bigint, 0)`;
  const operations = scope.operations ?? OPERATIONS;
  return sql.raw(`(${operations.map((operation) => `s.${COUNT_COLUMNS[operation]}`).join(" + ")})`);
}
