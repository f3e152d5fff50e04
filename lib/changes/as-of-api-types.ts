/**
 * JSON shapes of the time-travel API as the browser holds them (row images parsed without losing a digit).
 * Type-only: safe to import from client components.
 */
import type { Jsonified } from "../api/types";
import type { BaselineJson } from "../baselines/queries";
import type { RecordAsOf, TableAsOf } from "./as-of";

export type RecordAsOfJson = Jsonified<RecordAsOf>;
export type TableAsOfJson = Jsonified<TableAsOf>;
export type BaselinesResponse = { baselines: BaselineJson[] };
export type { BaselineJson };
