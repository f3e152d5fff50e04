import "server-only";
import type { QueryClient } from "@tanstack/react-query";
import { parseBody, type BodyFormat } from "../api/client";
import type { ChangeDetailJson, ChangePageJson } from "../changes/api-types";
import { parseChangeId } from "../changes/cursor";
import type { FilterValues } from "../changes/filters";
import { parseHistoryParams, parseListParams } from "../changes/params";
import { recordHistory } from "../changes/history";
import type { RecordKey } from "../changes/history-key";
import { getChange, listChanges } from "../changes/queries";
import { getDb } from "../db";
import { NotFound } from "../errors";
import { stringifyWithRaw } from "../http/json";
import type { DatabaseDetailResponse, ListDatabasesResponse, RoleSqlResponse } from "../sources/api-types";
import { roleSqlQuerySchema } from "../sources/input";
import { roleSql } from "../sources/role-sql";
import { env } from "../env";
import { describeDatabase, listDatabases } from "../sources/service";
import { changeQueries, changesSearchParams } from "./changes";
import { databaseQueries } from "./databases";
import { historySearchParams, recordQueries } from "./records";
import { recordAsOfPrefetch, tableAsOfPrefetch } from "./time-travel-prefetch";

/**
 * Server components fill a QueryClient before they render, calling the lib/ functions the API routes call (the
 * caller has checked the principal, as the route would), and hand it to the browser with
 * `<HydrationBoundary state={dehydrate(queryClient)}>`: the page's first paint shows data. Each query keeps
 * its key and options from lib/query/; only the fetch differs, and it yields what the browser's own fetch
 * would: the route's JSON body, read as apiFetch reads it. A prefetch that fails leaves the query to the
 * browser, which then shows the error as it would have.
 */

/** The body a route answers with `body` (RawJson embedded verbatim), parsed as the browser parses it. */
export function asFetched<T>(body: unknown, format: BodyFormat): T {
  return parseBody(stringifyWithRaw(body), format) as T;
}

export const prefetch = {
  /** The first page of GET /api/changes with these filters. */
  changes: (client: QueryClient, filters: FilterValues) =>
    client.prefetchInfiniteQuery({
      ...changeQueries.list(filters),
      queryFn: async ({ pageParam }) => {
        const { filters: valid, page } = parseListParams(changesSearchParams(filters, pageParam));
        return asFetched<ChangePageJson>(await listChanges(getDb(), valid, page), "lossless");
      },
      retry: false,
    }),

  /** GET /api/changes/:id */
  change: (client: QueryClient, id: string) =>
    client.prefetchQuery({
      ...changeQueries.detail(id),
      queryFn: async () => {
        const changeId = parseChangeId(id);
        const detail = changeId ? await getChange(getDb(), changeId) : null;
        if (!detail) throw new NotFound("Change");
        return asFetched<ChangeDetailJson>(detail, "lossless");
      },
      retry: false,
    }),

  /** The first page of GET /api/records/history for this row. */
  history: (client: QueryClient, key: RecordKey) =>
    client.prefetchInfiniteQuery({
      ...recordQueries.history(key),
      queryFn: async ({ pageParam }) => {
        const parsed = parseHistoryParams(historySearchParams(key, pageParam));
        return asFetched<ChangePageJson>(await recordHistory(getDb(), parsed.record, parsed.page), "lossless");
      },
      retry: false,
    }),

  /** GET /api/records/as-of for this row at `at` (as the URL has it). */
  recordAsOf: recordAsOfPrefetch,

  /** The first page of GET /api/tables/as-of. */
  tableAsOf: tableAsOfPrefetch,

  /**
   * GET /api/databases. The slots' readings wait (briefly) only where they are shown, the databases page
   * (`slots: "wait"`); elsewhere the list is there for the capture banner, and takes the readings at hand.
   */
  databases: (client: QueryClient, options: { slots?: "wait" | "at-hand" } = {}) =>
    client.prefetchQuery({
      ...databaseQueries.list(),
      queryFn: async () =>
        asFetched<ListDatabasesResponse>(
          {
            databases: await listDatabases(getDb(), env.web.RETRACE_SECRET, { wait: options.slots === "wait" }),
          },
          "json",
        ),
      retry: false,
    }),

  /** GET /api/databases/:id */
  database: (client: QueryClient, id: string) =>
    client.prefetchQuery({
      ...databaseQueries.detail(id),
      queryFn: async () =>
        asFetched<DatabaseDetailResponse>(await describeDatabase(getDb(), env.web.RETRACE_SECRET, id), "json"),
      retry: false,
    }),

  /** GET /api/databases/role-sql?database=… */
  roleSql: (client: QueryClient, database: string) =>
    client.prefetchQuery({
      ...databaseQueries.roleSql(database),
      queryFn: async () =>
        asFetched<RoleSqlResponse>({ roleSql: roleSql(roleSqlQuerySchema.parse({ database }).database) }, "json"),
      retry: false,
    }),
};
