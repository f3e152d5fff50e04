import { infiniteQueryOptions, queryOptions } from "@tanstack/react-query";
import { apiFetch } from "../api/client";
import type { AuditPageResponse, TokensResponse, UsersResponse } from "../auth/api-types";
import { queryKeys, type AuditFilterValues } from "./keys";

/** Events per page of the Activity page. */
export const AUDIT_PAGE_SIZE = 50;

/** The query string of GET /api/audit for a page (also what the server prefetch parses). */
export function auditSearchParams(filters: AuditFilterValues, cursor: string | null): URLSearchParams {
  const params = new URLSearchParams();
  if (filters.action) params.set("action", filters.action);
  if (filters.actor) params.set("actor", filters.actor);
  if (cursor) params.set("cursor", cursor);
  params.set("limit", String(AUDIT_PAGE_SIZE));
  return params;
}

export const teamQueries = {
  users: () =>
    queryOptions({
      queryKey: queryKeys.team.users(),
      queryFn: ({ signal }) => apiFetch<UsersResponse>("/api/users", { signal }),
    }),
  tokens: () =>
    queryOptions({
      queryKey: queryKeys.team.tokens(),
      queryFn: ({ signal }) => apiFetch<TokensResponse>("/api/tokens", { signal }),
      // Last-used times move while the page is open.
      refetchInterval: 30_000,
    }),
  audit: (filters: AuditFilterValues) =>
    infiniteQueryOptions({
      queryKey: queryKeys.team.audit(filters),
      queryFn: ({ pageParam, signal }) =>
        apiFetch<AuditPageResponse>(`/api/audit?${auditSearchParams(filters, pageParam)}`, { signal }),
      initialPageParam: null as string | null,
      getNextPageParam: (lastPage) => lastPage.nextCursor,
    }),
};
