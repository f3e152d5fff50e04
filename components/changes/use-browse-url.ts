"use client";

import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useCallback, useMemo, useOptimistic, useTransition } from "react";
import { FILTER_KEYS, readFilters, type FilterValues } from "@/lib/changes/filters";

/** Options of the view that are no filter: they change how the list shows, not which changes it holds. */
export type ViewOptions = { groupByTransaction: boolean };

/** The environment is the header's scope (components/environment.tsx): "Clear all" keeps it. */
const CLEARABLE = FILTER_KEYS.filter((key) => key !== "environment");

/**
 * The change browser's state is its URL: the filters (named as the API names them, so a view's URL is its query)
 * and the view options. Every edit pushes a history entry, so Back undoes the last one, and a link shares the view.
 * An edit shows at once (a checkbox checks when clicked, the list starts loading), before the navigation to the
 * new URL completes.
 */
export function useBrowseUrl() {
  const router = useRouter();
  const pathname = usePathname();
  const searchParams = useSearchParams();
  const [query, setOptimisticQuery] = useOptimistic(searchParams.toString());
  const [, startTransition] = useTransition();
  const params = useMemo(() => new URLSearchParams(query), [query]);
  const filters = useMemo(() => readFilters(params), [params]);
  const view: ViewOptions = { groupByTransaction: params.get("group") === "transaction" };

  const push = useCallback(
    (edit: (params: URLSearchParams) => void) => {
      const next = new URLSearchParams(query);
      edit(next);
      const nextQuery = next.toString();
      // Nothing changed (a field left as it was): no history entry for Back to step through.
      if (nextQuery === query) return;
      startTransition(() => {
        setOptimisticQuery(nextQuery);
        router.push(nextQuery ? `${pathname}?${nextQuery}` : pathname, { scroll: false });
      });
    },
    [router, pathname, query, setOptimisticQuery],
  );

  /** Sets (or with "" removes) some filters in one history entry. */
  const setFilters = useCallback(
    (patch: FilterValues) =>
      push((next) => {
        for (const [key, value] of Object.entries(patch)) {
          if (value) next.set(key, value);
          else next.delete(key);
        }
      }),
    [push],
  );

  const clearFilters = useCallback(
    () =>
      push((next) => {
        for (const key of CLEARABLE) next.delete(key);
      }),
    [push],
  );

  const setGroupByTransaction = useCallback(
    (on: boolean) =>
      push((next) => {
        if (on) next.set("group", "transaction");
        else next.delete("group");
      }),
    [push],
  );

  const clearable = CLEARABLE.some((key) => filters[key]);
  return { filters, view, setFilters, clearFilters, clearable, setGroupByTransaction };
}
