import { queryOptions } from "@tanstack/react-query";
import { apiFetch } from "../api/client";
import type { HoldsJson } from "../holds/api-types";
import type { RetentionForecastJson, RetentionJson, StorageJson } from "../retention/api-types";
import type { RetentionRule } from "../retention/input";
import { queryKeys } from "./keys";

/**
 * The retention settings (GET /api/retention), a preview of rules not saved yet, the storage report and the holds.
 */
export const retentionQueries = {
  settings: () =>
    queryOptions({
      queryKey: queryKeys.retention.settings(),
      queryFn: ({ signal }) => apiFetch<RetentionJson>("/api/retention", { signal }),
    }),

  /** POST /api/retention/preview: only reads, so it is a query keyed by the rules. */
  preview: (rules: readonly RetentionRule[]) =>
    queryOptions({
      queryKey: queryKeys.retention.preview(rules),
      // No abort signal: a preview the form has moved past is cheap to finish, and cut off mid-body the server
      // would log it as an error.
      queryFn: () =>
        apiFetch<RetentionForecastJson>("/api/retention/preview", { method: "POST", body: JSON.stringify({ rules }) }),
      staleTime: 60_000,
    }),

  storage: () =>
    queryOptions({
      queryKey: queryKeys.retention.storage(),
      queryFn: ({ signal }) => apiFetch<StorageJson>("/api/storage", { signal }),
      // Sizes move as changes arrive and partitions are dropped; a minute is fresh enough.
      refetchInterval: 60_000,
    }),

  /** GET /api/holds: the active ones (an import places its own, so they are refetched now and then). */
  holds: () =>
    queryOptions({
      queryKey: queryKeys.retention.holds(),
      queryFn: ({ signal }) => apiFetch<HoldsJson>("/api/holds", { signal }),
      refetchInterval: 60_000,
    }),
};
