/**
 * JSON shapes of the browse endpoints (GET /api/changes/live, /activity, /api/trail/tables, /api/environments) as
 * the browser holds them: the server's types through Jsonified, as lib/changes/api-types.ts does for the list.
 * Type-only: safe to import from client components.
 */
import type { Jsonified } from "../api/types";
import type { Activity, ActivityBucket } from "./activity";
import type { LivePage } from "./live";
import type { Environment, TrailTable } from "./trail";

export type LivePageJson = Jsonified<LivePage>;
export type ActivityBucketJson = Jsonified<ActivityBucket>;
export type ActivityJson = Jsonified<Activity>;
export type TrailTablesJson = { tables: Jsonified<TrailTable>[] };
export type EnvironmentsJson = { environments: Jsonified<Environment>[] };
