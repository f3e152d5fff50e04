"use client";

import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import type { FilterValues } from "@/lib/changes/filters";
import { changeQueries } from "@/lib/query/changes";

/** The change list for these filters, newest first, live while only its newest page is shown. */
export function useChanges(filters: FilterValues) {
  return useInfiniteQuery(changeQueries.list(filters));
}

export function useChange(id: string) {
  return useQuery(changeQueries.detail(id));
}
