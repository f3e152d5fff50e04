import { infiniteQueryOptions, queryOptions } from "@tanstack/react-query";
import { apiFetch, ApiError } from "../api/client";
import type { ChangeDetailJson, ChangeJson, ChangePageJson, TransactionPageJson } from "../changes/api-types";
import type { ActivityJson, LivePageJson } from "../changes/browse-types";
import { FILTER_KEYS, type FilterValues } from "../changes/filters";
import { resolveTime } from "../changes/time-range";
import { transactionCursor } from "../changes/transaction-cursor";
import { queryKeys } from "./keys";

/** Changes per page of the list. */
export const CHANGES_PAGE_SIZE = 50;

/** How often the live tail asks for what is new. */
const LIVE_MS = 3_000;

/** At most this many new changes per live answer; past it the answer says `more` and the list is reloaded. */
const LIVE_LIMIT = 200;

/** Bars of the activity chart. */
export const ACTIVITY_BUCKETS = 60;

/**
 * The filters as the API's query string: the page's URL parameters, with a preset time (`now-1h`) turned into the
 * time it stands for at `now`.
 */
export function filterSearchParams(filters: FilterValues, now = Date.now()): URLSearchParams {
  const params = new URLSearchParams();
  for (const key of FILTER_KEYS) {
    const value = filters[key];
    if (value) params.set(key, key === "from" || key === "to" ? resolveTime(value, now) : value);
  }
  return params;
}

/** The query string of GET /api/changes for a page of a filtered list (also what the server prefetch parses). */
export function changesSearchParams(filters: FilterValues, cursor: string | null): URLSearchParams {
  const params = filterSearchParams(filters);
  if (cursor) params.set("cursor", cursor);
  params.set("limit", String(CHANGES_PAGE_SIZE));
  return params;
}

/** Where the filtered view downloads as NDJSON or CSV (GET /api/changes/export). */
export function exportHref(filters: FilterValues, format: "ndjson" | "csv", now: number): string {
  const params = filterSearchParams(filters, now);
  params.set("format", format);
  return `/api/changes/export?${params}`;
}

/**
 * The live tail of a list: the changes stored since the list's first page was read, newest first, gathered poll by
 * poll. `base` is the list's token it grew from: a list read again (a new token) starts a new tail.
 */
export type LiveTail = { base: string | null; token: string | null; changes: ChangeJson[]; more: boolean };

export const changeQueries = {
  /**
   * Newest first, a page at a time; row images read losslessly. Not refetched on a timer or on focus: new changes
   * arrive through the live tail, and refetching an infinite query reloads every page shown, moving rows under the
   * reader.
   */
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
      refetchOnWindowFocus: false,
    }),

  /**
   * What is newer than the list, asked of GET /api/changes/live with the token of the previous answer (only the new
   * changes cross the wire). Each answer adds to the tail the cache holds; polled until `more` says the reader is
   * too far behind for a tail.
   */
  live: (filters: FilterValues) =>
    queryOptions({
      queryKey: queryKeys.changes.live(filters),
      queryFn: async ({ client, signal }): Promise<LiveTail> => {
        const list = client.getQueryData(changeQueries.list(filters).queryKey);
        const base = list?.pages[0]?.liveToken ?? null;
        if (base === null) return { base, token: null, changes: [], more: false };
        const previous = client.getQueryData<LiveTail>(queryKeys.changes.live(filters));
        const tail = previous?.base === base && previous.token !== null ? previous : null;
        const params = filterSearchParams(filters);
        params.set("token", tail?.token ?? base);
        params.set("limit", String(LIVE_LIMIT));
        const page = await apiFetch<LivePageJson>(`/api/changes/live?${params}`, { signal, format: "lossless" });
        const known = new Set(tail?.changes.map((change) => change.id));
        const arrived = page.changes.filter((change) => !known.has(change.id));
        return { base, token: page.token, changes: [...arrived, ...(tail?.changes ?? [])], more: page.more };
      },
      refetchInterval: (query) => (query.state.data?.more ? false : LIVE_MS),
      refetchOnWindowFocus: false,
      retry: false,
    }),

  /** Changes over the filtered range by operation, for the activity chart. */
  activity: (filters: FilterValues) =>
    queryOptions({
      queryKey: queryKeys.changes.activity(filters),
      queryFn: ({ signal }) => {
        const params = filterSearchParams(filters);
        params.set("buckets", String(ACTIVITY_BUCKETS));
        return apiFetch<ActivityJson>(`/api/changes/activity?${params}`, { signal });
      },
      refetchInterval: 15_000,
      refetchOnWindowFocus: false,
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
