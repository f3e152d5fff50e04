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

  /**
   * The dedicated role's SQL for a database name (as typed; empty for the placeholder), a kind of host (empty:
   * self-managed) and the tables it reads (comma-separated "schema.table"; empty: every table).
   */
  roleSql: (database: string, hostKind = "", tables = "") =>
    queryOptions({
      queryKey: queryKeys.databases.roleSql(database, hostKind, tables),
      queryFn: ({ signal }) => {
        const params = new URLSearchParams({ database });
        if (hostKind) params.set("hostKind", hostKind);
        if (tables) params.set("tables", tables);
        return apiFetch<RoleSqlResponse>(`/api/databases/role-sql?${params}`, { signal });
      },
      staleTime: Infinity,
    }),
};
