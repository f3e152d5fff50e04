import { infiniteQueryOptions } from "@tanstack/react-query";
import { apiFetch } from "../api/client";
import type { ChangePageJson } from "../changes/api-types";
import { recordSearchParams, type RecordKey } from "../changes/history-key";
import { queryKeys } from "./keys";

/** Changes per page of a record's history. */
export const HISTORY_PAGE_SIZE = 20;

/** The query string of GET /api/records/history for a page (also what the server prefetch parses). */
export function historySearchParams(key: RecordKey, cursor: string | null): URLSearchParams {
  const params = recordSearchParams(key);
  if (cursor) params.set("cursor", cursor);
  params.set("limit", String(HISTORY_PAGE_SIZE));
  return params;
}

export const recordQueries = {
  /** Every change of one row, newest first, a page at a time ("Load older"); row images read losslessly. */
  history: (key: RecordKey) =>
    infiniteQueryOptions({
      queryKey: queryKeys.records.history(key),
      queryFn: ({ pageParam, signal }) =>
        apiFetch<ChangePageJson>(`/api/records/history?${historySearchParams(key, pageParam)}`, {
          signal,
          format: "lossless",
        }),
      initialPageParam: null as string | null,
      getNextPageParam: (lastPage) => lastPage.nextCursor,
      // A new change of the row shows when the page is opened again, or refocused; older pages stay as loaded.
      refetchOnWindowFocus: (query) => (query.state.data?.pages.length ?? 0) <= 1,
    }),
};
