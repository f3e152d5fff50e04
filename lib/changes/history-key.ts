import type { RecordRef } from "./history";

/**
 * One row of a source table (GET /api/records/history's parameters): its table and key as the list's filters take
 * them, narrowed to a database or a source. Client-safe, as this module is (the import is of a type only).
 */
export type RecordKey = RecordRef;

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
