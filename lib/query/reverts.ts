import { queryOptions } from "@tanstack/react-query";
import { apiFetch } from "../api/client";
import type { RevertResultJson, RevertTargetJson } from "../changes/revert/api-types";
import { queryKeys } from "./keys";

/** POST /api/reverts's body for a target; `context` is JSON text, sent as the object it is (digits kept). */
export function revertBody(target: RevertTargetJson, execute: boolean): string {
  if ("changeId" in target) return JSON.stringify({ changeId: target.changeId, execute });
  if ("transactionOf" in target) return JSON.stringify({ transactionOf: target.transactionOf, execute });
  const source = target.sourceId ? `,"sourceId":${JSON.stringify(target.sourceId)}` : "";
  return `{"context":${target.context}${source},"execute":${execute}}`;
}

export const revertQueries = {
  /**
   * The revert's SQL and conflicts (nothing is changed). Not refetched on focus: it reads the source's live rows,
   * and a plan someone is reading should not change under them; "Check again" refetches.
   */
  plan: (target: RevertTargetJson) =>
    queryOptions({
      queryKey: queryKeys.reverts.plan(target),
      queryFn: ({ signal }) =>
        apiFetch<RevertResultJson>("/api/reverts", { method: "POST", body: revertBody(target, false), signal }),
      refetchOnWindowFocus: false,
      retry: false,
    }),
};
