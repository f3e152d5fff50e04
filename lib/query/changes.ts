import { infiniteQueryOptions, queryOptions } from "@tanstack/react-query";
import { apiFetch, ApiError } from "../api/client";
import type { ChangeDetailJson, ChangePageJson, TransactionPageJson } from "../changes/api-types";
import type { FilterValues } from "../changes/filters";
import { transactionCursor } from "../changes/transaction-cursor";
import { queryKeys } from "./keys";

/** Changes per page of the list. */
export const CHANGES_PAGE_SIZE = 50;

/** How often the list looks for new changes (live tail). */
const REFRESH_MS = 3_000;

/** The query string of GET /api/changes for a page of a filtered list (also what the server prefetch parses). */
export function changesSearchParams(filters: FilterValues, cursor: string | null): URLSearchParams {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) if (value) params.set(key, value);
  if (cursor) params.set("cursor", cursor);
  params.set("limit", String(CHANGES_PAGE_SIZE));
  return params;
}

/**
 * Live only while the newest page alone is shown. Refetching an infinite query refetches every
 * page loaded, one after the other, and rows arriving meanwhile would shift what the reader is
 * looking at; loading older changes pauses it until "Show newest".
 */
const showingNewestOnly = (query: { state: { data?: { pages: unknown[] } } }) =>
  (query.state.data?.pages.length ?? 0) <= 1;

export const changeQueries = {
  /** Newest first, a page at a time; row images read losslessly. */
  list: (filters: FilterValues) =>
    infiniteQueryOptions({
      queryKey: queryKeys.changes.list(filters),
      queryFn: ({ pageParam, signal }) =>
        apiFetch<ChangePageJson>(`/api/changes?${changesSearchParams(filters, pageParam)}`, {
          signal,
          format: "lossless",
        }),
      initialPageParam: null as string | null,
      getNextPageParam: (lastPage) => lastPage.nextCursor,
      refetchInterval: (query) => (showingNewestOnly(query) ? REFRESH_MS : false),
      refetchOnWindowFocus: showingNewestOnly,
    }),

  /** One change and its transaction. */
  detail: (id: string) =>
    queryOptions({
      queryKey: queryKeys.changes.detail(id),
      queryFn: ({ signal }) =>
        apiFetch<ChangeDetailJson>(`/api/changes/${encodeURIComponent(id)}`, { signal, format: "lossless" }),
      // A change never changes; there is nothing to refetch.
      staleTime: Infinity,
      retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
    }),

  /**
   * The change's transaction in commit order, a page at a time (GET /api/changes/:id/transaction). Its first page
   * comes with the change (`detail`), which seeds it: only "Load more" fetches.
   */
  transaction: (id: string, detail: ChangeDetailJson) =>
    infiniteQueryOptions({
      queryKey: queryKeys.changes.transaction(id),
      queryFn: ({ pageParam, signal }) => {
        const params = new URLSearchParams(pageParam === null ? {} : { cursor: pageParam });
        return apiFetch<TransactionPageJson>(`/api/changes/${encodeURIComponent(id)}/transaction?${params}`, {
          signal,
          format: "lossless",
        });
      },
      initialPageParam: null as string | null,
      getNextPageParam: (lastPage) => lastPage.nextCursor,
      initialData: { pages: [firstTransactionPage(detail)], pageParams: [null] },
      staleTime: Infinity,
    }),
};

/** The transaction page the change's own answer holds, with the cursor of the next. */
export function firstTransactionPage(detail: ChangeDetailJson): TransactionPageJson {
  const last = detail.transaction[detail.transaction.length - 1];
  const nextCursor = detail.transactionTruncated && last ? transactionCursor(last.seq) : null;
  return { changes: detail.transaction, nextCursor };
}
