"use client";

import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useCallback, useMemo } from "react";
import { FILTER_KEYS, readFilters, type FilterValues } from "@/lib/changes/filters";

/** Options of the view that are no filter: they change how the list shows, not which changes it holds. */
export type ViewOptions = { groupByTransaction: boolean };

/** The environment is the header's scope (components/environment.tsx): "Clear all" keeps it. */
const CLEARABLE = FILTER_KEYS.filter((key) => key !== "environment");

/**
 * The change browser's state is its URL: the filters (named as the API names them, so a view's URL is its query)
 * and the view options. Every edit pushes a history entry, so Back undoes the last one, and a link shares the view.
 */
export function useBrowseUrl() {
  const router = useRouter();
  const pathname = usePathname();
  const searchParams = useSearchParams();
  const filters = useMemo(() => readFilters(searchParams), [searchParams]);
  const view: ViewOptions = { groupByTransaction: searchParams.get("group") === "transaction" };

  const push = useCallback(
    (edit: (params: URLSearchParams) => void) => {
      const params = new URLSearchParams(searchParams.toString());
      edit(params);
      const query = params.toString();
      // Nothing changed (a field left as it was): no history entry for Back to step through.
      if (query === searchParams.toString()) return;
      router.push(query ? `${pathname}?${query}` : pathname, { scroll: false });
    },
    [router, pathname, searchParams],
  );

  /** Sets (or with "" removes) some filters in one history entry. */
  const setFilters = useCallback(
    (patch: FilterValues) =>
      push((params) => {
        for (const [key, value] of Object.entries(patch)) {
          if (value) params.set(key, value);
          else params.delete(key);
        }
      }),
    [push],
  );

  const clearFilters = useCallback(
    () =>
      push((params) => {
        for (const key of CLEARABLE) params.delete(key);
      }),
    [push],
  );

  const setGroupByTransaction = useCallback(
    (on: boolean) =>
      push((params) => {
        if (on) params.set("group", "transaction");
        else params.delete("group");
      }),
    [push],
  );

  const clearable = CLEARABLE.some((key) => filters[key]);
  return { filters, view, setFilters, clearFilters, clearable, setGroupByTransaction };
}
