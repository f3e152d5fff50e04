"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { apiFetch } from "@/lib/api/client";
import type { HoldJson } from "@/lib/holds/api-types";
import type { RetentionJson } from "@/lib/retention/api-types";
import type { RetentionRule } from "@/lib/retention/input";
import { queryKeys } from "@/lib/query/keys";
import { retentionQueries } from "@/lib/query/retention";

export function useRetention() {
  return useQuery(retentionQueries.settings());
}

export function useStorage() {
  return useQuery(retentionQueries.storage());
}

/** PUT /api/retention; the settings come back in the answer, the storage forecast and audit log are refetched. */
export function useSaveRetention() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (rules: RetentionRule[]) =>
      apiFetch<RetentionJson>("/api/retention", { method: "PUT", body: JSON.stringify({ rules }) }),
    onSuccess: (settings) => {
      queryClient.setQueryData(queryKeys.retention.settings(), settings);
      return Promise.all([
        queryClient.invalidateQueries({ queryKey: queryKeys.retention.storage() }),
        queryClient.invalidateQueries({ queryKey: [...queryKeys.team.all, "audit"] }),
      ]);
    },
  });
}

export function useHolds() {
  return useQuery(retentionQueries.holds());
}

/** What POST /api/holds takes, as the form sends it (ISO times). */
export type NewHold = { database: string; from: string; to: string; reason: string };

/** Holds change what retention frees (the storage forecast) and the audit log: both refetched with the list. */
function useHoldMutation<T>(mutationFn: (input: T) => Promise<{ hold: HoldJson }>) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn,
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: queryKeys.retention.holds() }),
        queryClient.invalidateQueries({ queryKey: queryKeys.retention.storage() }),
        queryClient.invalidateQueries({ queryKey: [...queryKeys.retention.all, "preview"] }),
        queryClient.invalidateQueries({ queryKey: [...queryKeys.team.all, "audit"] }),
      ]),
  });
}

/** POST /api/holds. */
export function useCreateHold() {
  return useHoldMutation((hold: NewHold) =>
    apiFetch<{ hold: HoldJson }>("/api/holds", { method: "POST", body: JSON.stringify(hold) }),
  );
}

/** DELETE /api/holds/:id. */
export function useReleaseHold() {
  return useHoldMutation((id: string) =>
    apiFetch<{ hold: HoldJson }>(`/api/holds/${encodeURIComponent(id)}`, { method: "DELETE" }),
  );
}
