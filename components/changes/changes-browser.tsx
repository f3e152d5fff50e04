"use client";

import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useCallback, useMemo } from "react";
import { FILTER_KEYS, readFilters, type FilterKey } from "@/lib/changes/filters";
import { ChangeFilters } from "./change-filters";
import { ChangeList } from "./change-list";

/** Filters live in the URL so a view can be shared; the list follows the URL. */
export function ChangesBrowser() {
  const router = useRouter();
  const pathname = usePathname();
  const searchParams = useSearchParams();
  const filters = useMemo(() => readFilters(searchParams), [searchParams]);

  const navigate = useCallback(
    (params: URLSearchParams) => {
      const query = params.toString();
      router.replace(query ? `${pathname}?${query}` : pathname, { scroll: false });
    },
    [router, pathname],
  );

  const setFilter = useCallback(
    (key: FilterKey, value: string) => {
      const params = new URLSearchParams(searchParams.toString());
      if (value) params.set(key, value);
      else params.delete(key);
      navigate(params);
    },
    [searchParams, navigate],
  );

  const clearFilters = useCallback(() => {
    const params = new URLSearchParams(searchParams.toString());
    for (const key of FILTER_KEYS) params.delete(key);
    navigate(params);
  }, [searchParams, navigate]);

  return (
    <div className="space-y-6">
      <ChangeFilters filters={filters} onChange={setFilter} />
      <ChangeList filters={filters} onClearFilters={clearFilters} />
    </div>
  );
}
