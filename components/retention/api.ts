"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { apiFetch } from "@/lib/api/client";
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
