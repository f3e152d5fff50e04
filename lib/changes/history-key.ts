/**
 * One row of a source table as its changes name it: the table (`schema.table`, or `table` in any schema), its
 * primary key as the changes store it (one column: its text; composite: a JSON array's text), and the database it
 * lives in: a source (sourceId), or every source whose database has that name. Client-safe.
 */
export type RecordKey = { table: string; primaryKey: string; sourceId?: string; database?: string };

/** The row a change is of, or null for one without a primary key (a TRUNCATE, a table without one). */
export function recordKeyOf(change: {
  sourceId: string;
  database: string;
  schema: string;
  table: string;
  primaryKey: string | null;
}): RecordKey | null {
  if (change.primaryKey === null) return null;
  return {
    database: change.database,
    table: `${change.schema}.${change.table}`,
    primaryKey: change.primaryKey,
    sourceId: change.sourceId,
  };
}

/** The key as query parameters: GET /api/records/history and the /records page take the same. */
export function recordSearchParams(key: RecordKey): URLSearchParams {
  const params = new URLSearchParams();
  if (key.database !== undefined) params.set("database", key.database);
  params.set("table", key.table);
  params.set("primaryKey", key.primaryKey);
  if (key.sourceId !== undefined) params.set("sourceId", key.sourceId);
  return params;
}

/** The record history page of a row. */
export function recordHref(key: RecordKey): string {
  return `/records?${recordSearchParams(key)}`;
}
