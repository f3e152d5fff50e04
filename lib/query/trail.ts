import { queryOptions } from "@tanstack/react-query";
import { apiFetch } from "../api/client";
import type { EnvironmentsJson, TrailTablesJson } from "../changes/browse-types";
import { queryKeys } from "./keys";

/** What the trail holds: its tables (type-ahead of the table filter) and its environments (the header's switcher). */
export const trailQueries = {
  /** Tables whose name contains `q`, in `environment` and `database` ("" for all). */
  tables: (q: string, environment: string, database = "") =>
    queryOptions({
      queryKey: queryKeys.trail.tables(q, environment, database),
      queryFn: ({ signal }) => {
        const params = new URLSearchParams({ q });
        if (environment) params.set("environment", environment);
        if (database) params.set("database", database);
        return apiFetch<TrailTablesJson>(`/api/trail/tables?${params}`, { signal });
      },
      staleTime: 30_000,
    }),

  environments: () =>
    queryOptions({
      queryKey: queryKeys.trail.environments(),
      queryFn: ({ signal }) => apiFetch<EnvironmentsJson>("/api/environments", { signal }),
      staleTime: 30_000,
    }),
};
