/**
 * JSON shapes of /api/databases as the browser receives them (dates as ISO strings).
 * Type-only: safe to import from client components.
 */
import type { Check, CheckReport } from "./checks";
import type { SourceSummary, TrackedTableRow } from "./queries";
import type { SourceTableWithTracking } from "./service";

/** T after JSON.stringify and JSON.parse: dates become ISO strings. */
export type Jsonified<T> = T extends Date
  ? string
  : T extends readonly (infer U)[]
    ? Jsonified<U>[]
    : T extends object
      ? { [K in keyof T]: Jsonified<T[K]> }
      : T;

export type DatabaseJson = Jsonified<SourceSummary>;
export type TrackedTableJson = Jsonified<TrackedTableRow>;
export type SourceTableJson = SourceTableWithTracking;
export type CheckJson = Check;

export type ListDatabasesResponse = { databases: DatabaseJson[] };
export type DatabaseResponse = { database: DatabaseJson };
export type DatabaseDetailResponse = { database: DatabaseJson; tables: TrackedTableJson[] };
export type SourceTablesResponse = { tables: SourceTableJson[] };
export type TrackedTablesResponse = { tables: TrackedTableJson[] };
export type CheckResponse = CheckReport;
export type RemoveDatabaseResponse = { id: string; manualCleanupSql: string | null };

/** What a value looks like after JSON.stringify/parse (for server-side prefetching). */
export function toJson<T>(value: T): Jsonified<T> {
  return JSON.parse(JSON.stringify(value)) as Jsonified<T>;
}
