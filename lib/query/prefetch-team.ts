import "server-only";
import type { QueryClient } from "@tanstack/react-query";
import type { AuditPageResponse, TokensResponse, UsersResponse } from "../auth/api-types";
import { listApiTokens } from "../auth/tokens";
import { listUsers } from "../auth/users";
import { listAuditEvents, parseAuditParams } from "../audit/list";
import { getDb } from "../db";
import type { AuditFilterValues } from "./keys";
import { asFetched } from "./prefetch";
import { auditSearchParams, teamQueries } from "./team";

/** The team pages' first paint, as lib/query/prefetch.ts does it for the others (the page checked the admin). */
export const prefetchTeam = {
  /** GET /api/users */
  users: (client: QueryClient) =>
    client.prefetchQuery({
      ...teamQueries.users(),
      queryFn: async () => asFetched<UsersResponse>({ users: await listUsers(getDb()) }, "json"),
      retry: false,
    }),

  /** GET /api/tokens */
  tokens: (client: QueryClient) =>
    client.prefetchQuery({
      ...teamQueries.tokens(),
      queryFn: async () => asFetched<TokensResponse>({ tokens: await listApiTokens(getDb()) }, "json"),
      retry: false,
    }),

  /** The first page of GET /api/audit with these filters. */
  audit: (client: QueryClient, filters: AuditFilterValues) =>
    client.prefetchInfiniteQuery({
      ...teamQueries.audit(filters),
      queryFn: async () => {
        const { filters: valid, page } = parseAuditParams(auditSearchParams(filters, null));
        return asFetched<AuditPageResponse>(await listAuditEvents(getDb(), valid, page), "json");
      },
      retry: false,
    }),
};
