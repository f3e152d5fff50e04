import { infiniteQueryOptions, queryOptions } from "@tanstack/react-query";
import { apiFetch } from "../api/client";
import type { BaselinesResponse, RecordAsOfJson, TableAsOfJson } from "../changes/as-of-api-types";
import { recordSearchParams, type RecordKey } from "../changes/history-key";

/** Rows per page of a table as of a moment. */
export const TABLE_PAGE_SIZE = 50;

/** A table of one database, as /tables and GET /api/tables/as-of take it. */
export type TableRef = { table: string; database?: string; sourceId?: string };

export const timeTravelKeys = {
  all: ["time-travel"] as const,
  record: (key: RecordKey, at: string) => [...timeTravelKeys.all, "record", key, at] as const,
  table: (ref: TableRef, at: string) => [...timeTravelKeys.all, "table", ref, at] as const,
  baselines: (sourceId: string) => [...timeTravelKeys.all, "baselines", sourceId] as const,
};

/** The query string of GET /api/tables/as-of (and of the /tables page, without cursor and limit). */
export function tableSearchParams(ref: TableRef, at: string): URLSearchParams {
  const params = new URLSearchParams();
  if (ref.database) params.set("database", ref.database);
  if (ref.sourceId) params.set("sourceId", ref.sourceId);
  params.set("table", ref.table);
  params.set("at", at);
  return params;
}

/** The /tables page of a table as of a moment. */
export const tableHref = (ref: TableRef, at: string) => `/tables?${tableSearchParams(ref, at)}`;

const RUNNING_REFRESH_MS = 1_000;

export const timeTravelQueries = {
  record: (key: RecordKey, at: string) =>
    queryOptions({
      queryKey: timeTravelKeys.record(key, at),
      queryFn: ({ signal }) => {
        const params = recordSearchParams(key);
        params.set("at", at);
        return apiFetch<RecordAsOfJson>(`/api/records/as-of?${params}`, { signal, format: "lossless" });
      },
      staleTime: 30_000,
    }),

  table: (ref: TableRef, at: string) =>
    infiniteQueryOptions({
      queryKey: timeTravelKeys.table(ref, at),
      queryFn: ({ pageParam, signal }) => {
        const params = tableSearchParams(ref, at);
        if (pageParam) params.set("cursor", pageParam);
        params.set("limit", String(TABLE_PAGE_SIZE));
        return apiFetch<TableAsOfJson>(`/api/tables/as-of?${params}`, { signal, format: "lossless" });
      },
      initialPageParam: null as string | null,
      getNextPageParam: (lastPage) => lastPage.nextCursor,
      staleTime: 30_000,
    }),

  /** A database's baselines; polled every second while one is pending or running (the progress bar). */
  baselines: (sourceId: string) =>
    queryOptions({
      queryKey: timeTravelKeys.baselines(sourceId),
      queryFn: ({ signal }) =>
        apiFetch<BaselinesResponse>(`/api/databases/${encodeURIComponent(sourceId)}/baselines`, { signal }),
      refetchInterval: (query) =>
        query.state.data?.baselines.some((b) => b.status === "pending" || b.status === "running")
          ? RUNNING_REFRESH_MS
          : 10_000,
    }),
};
