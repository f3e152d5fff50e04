/**
 * JSON shapes of /api/databases as the browser receives them: the server's types through Jsonified (dates as
 * ISO strings). Type-only: safe to import from client components.
 */
import type { Jsonified } from "../api/types";
import type { Check, CheckReport } from "./check-result";
import type { SourceSummary } from "./queries";
import type { TrackedTableRow } from "./tracked-table-queries";
import type { ColumnRules } from "./column-rules";
import type { RemoveResult } from "./remove";
import type { getDatabase } from "./service";
import type { SourceTableWithTracking, sourceTables } from "./tracked-tables";
import type { SlotReading } from "./slot-readings";

/** What a service function resolves to, as JSON. */
type Answer<F extends (...args: never[]) => Promise<unknown>> = Jsonified<Awaited<ReturnType<F>>>;

/** `slot`: the slot as the source reports it; only GET answers carry it (null while it cannot be read). */
export type DatabaseJson = Jsonified<SourceSummary> & { slot?: SlotReadingJson | null };
export type SlotReadingJson = Jsonified<SlotReading>;
export type TrackedTableJson = Jsonified<TrackedTableRow>;
export type SourceTableJson = Jsonified<SourceTableWithTracking>;
export type CheckJson = Jsonified<Check>;

export type ListDatabasesResponse = { databases: DatabaseJson[] };
export type DatabaseResponse = { database: DatabaseJson };
export type DatabaseDetailResponse = Omit<Answer<typeof getDatabase>, "database"> & { database: DatabaseJson };
export type SourceTablesResponse = Answer<typeof sourceTables>;
export type ColumnRulesResponse = ColumnRules;
export type TrackedTablesResponse = { tables: TrackedTableJson[] };
export type CheckResponse = Jsonified<CheckReport>;
export type RoleSqlResponse = Pick<CheckResponse, "roleSql">;
export type RemoveDatabaseResponse = Jsonified<RemoveResult>;
