import { queryOptions } from "@tanstack/react-query";
import { apiFetch } from "../api/client";
import type { EnvironmentsJson, TrailTablesJson } from "../changes/browse-types";
import { queryKeys } from "./keys";

/** What the trail holds: its tables (type-ahead of the table filter) and its environments (the header's switcher). */
export const trailQueries = {
  /** Tables whose name contains `q`, in `environment` ("" for all). */
  tables: (q: string, environment: string) =>
    queryOptions({
      queryKey: queryKeys.trail.tables(q, environment),
      queryFn: ({ signal }) => {
        const params = new URLSearchParams({ q });
        if (environment) params.set("environment", environment);
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
