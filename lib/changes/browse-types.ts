/**
 * JSON shapes of the browse endpoints (GET /api/changes/live, /activity, /api/trail/tables, /api/environments) as
 * the browser holds them. Written from the API contract until the server's types exist; then derived from those
 * with Jsonified, as lib/changes/api-types.ts does. Type-only: safe to import from client components.
 */
import type { ChangeJson, ChangePageJson } from "./api-types";
import type { OperationName } from "./filters";

/** A page of the list; `liveToken` starts the live tail from what the page's read saw. */
export type ListPageJson = ChangePageJson & { liveToken?: string };

/** What was stored since a token, newest first; `more` when there was more than one answer holds. */
export type LivePageJson = { changes: ChangeJson[]; token: string; more: boolean };

export type ActivityBucketJson = { start: string } & Record<OperationName, number>;
export type ActivityJson = { from: string; to: string; bucketSeconds: number; buckets: ActivityBucketJson[] };

export type TrailTableJson = { schema: string; table: string; database: string; environment: string };
export type TrailTablesJson = { tables: TrailTableJson[] };

export type EnvironmentsJson = { environments: { name: string; databases: unknown }[] };
