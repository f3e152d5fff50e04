import "server-only";
import type { QueryClient } from "@tanstack/react-query";
import { parseBody } from "../api/client";
import { recordAsOf, tableAsOf } from "../changes/as-of";
import type { BaselinesResponse, RecordAsOfJson, TableAsOfJson } from "../changes/as-of-api-types";
import { parseRecordAsOfParams, parseTableAsOfParams } from "../changes/as-of-params";
import { recordSearchParams, type RecordKey } from "../changes/history-key";
import { listBaselines } from "../baselines/queries";
import { getDb } from "../db";
import { stringifyWithRaw } from "../http/json";
import { TABLE_PAGE_SIZE, tableSearchParams, timeTravelQueries, type TableRef } from "./time-travel";

/** Server prefetches of the time-travel queries (lib/query/prefetch.ts says how prefetches work). */

const asFetched = <T>(body: unknown): T => parseBody(stringifyWithRaw(body), "lossless") as T;

export const recordAsOfPrefetch = (client: QueryClient, key: RecordKey, at: string) =>
  client.prefetchQuery({
    ...timeTravelQueries.record(key, at),
    queryFn: async () => {
      const params = recordSearchParams(key);
      params.set("at", at);
      const parsed = parseRecordAsOfParams(params);
      return asFetched<RecordAsOfJson>(await recordAsOf(getDb(), parsed.record, parsed.at));
    },
    retry: false,
  });

export const tableAsOfPrefetch = (client: QueryClient, ref: TableRef, at: string) =>
  client.prefetchInfiniteQuery({
    ...timeTravelQueries.table(ref, at),
    queryFn: async () => {
      const params = tableSearchParams(ref, at);
      params.set("limit", String(TABLE_PAGE_SIZE));
      const parsed = parseTableAsOfParams(params);
      return asFetched<TableAsOfJson>(await tableAsOf(getDb(), parsed.table, parsed.at, parsed.page));
    },
    retry: false,
  });

/** GET /api/databases/:id/baselines, for the database page (its progress bars and "Baseline of N rows"). */
export const baselinesPrefetch = (client: QueryClient, sourceId: string) =>
  client.prefetchQuery({
    ...timeTravelQueries.baselines(sourceId),
    queryFn: async () =>
      parseBody(stringifyWithRaw({ baselines: await listBaselines(getDb(), sourceId) }), "json") as BaselinesResponse,
    retry: false,
  });
