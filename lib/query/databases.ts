import { queryOptions } from "@tanstack/react-query";
import { apiFetch } from "../api/client";
import type {
  DatabaseDetailResponse,
  ListDatabasesResponse,
  RoleSqlResponse,
  SourceTablesResponse,
} from "../sources/api-types";
import { queryKeys } from "./keys";

/** Status changes come from the worker; poll so the page follows it. */
const STATUS_REFRESH_MS = 5_000;

export const databasePath = (id: string) => `/api/databases/${encodeURIComponent(id)}`;

export const databaseQueries = {
  list: () =>
    queryOptions({
      queryKey: queryKeys.databases.list(),
      queryFn: ({ signal }) => apiFetch<ListDatabasesResponse>("/api/databases", { signal }),
      refetchInterval: STATUS_REFRESH_MS,
    }),

  /** The database and its tracked tables. */
  detail: (id: string) =>
    queryOptions({
      queryKey: queryKeys.databases.detail(id),
      queryFn: ({ signal }) => apiFetch<DatabaseDetailResponse>(databasePath(id), { signal }),
      refetchInterval: STATUS_REFRESH_MS,
    }),

  /** Read live from the source's catalog; not polled. */
  tables: (id: string) =>
    queryOptions({
      queryKey: queryKeys.databases.tables(id),
      queryFn: ({ signal }) => apiFetch<SourceTablesResponse>(`${databasePath(id)}/tables`, { signal }),
      staleTime: 30_000,
    }),

  /** The dedicated role's SQL for a database name (as typed; empty for the placeholder). */
  roleSql: (database: string) =>
    queryOptions({
      queryKey: queryKeys.databases.roleSql(database),
      queryFn: ({ signal }) =>
        apiFetch<RoleSqlResponse>(`/api/databases/role-sql?${new URLSearchParams({ database })}`, { signal }),
      staleTime: Infinity,
    }),
};
