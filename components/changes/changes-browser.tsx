"use client";

import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useCallback, useMemo } from "react";
import { FILTER_KEYS, readFilters, type FilterKey } from "@/lib/changes/filters";
import { CaptureBanner, useCaptureInView } from "./capture-health";
import { ChangeFilters } from "./change-filters";
import { ChangeList } from "./change-list";
import { useNow } from "./time";

/**
 * Filters live in the URL so a view can be shared; the list follows the URL. Capture health of the databases in
 * view heads it: the list can only be as current as their capture.
 */
export function ChangesBrowser() {
  const router = useRouter();
  const pathname = usePathname();
  const searchParams = useSearchParams();
  const filters = useMemo(() => readFilters(searchParams), [searchParams]);
  const capture = useCaptureInView(filters);
  const now = useNow();

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
      <CaptureBanner
        capture={capture}
        now={now}
        consequence="The newest changes made there may be missing from this list until capture is live again."
      />
      <ChangeFilters filters={filters} onChange={setFilter} />
      <ChangeList filters={filters} capture={capture} onClearFilters={clearFilters} />
    </div>
  );
}
