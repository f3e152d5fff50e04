"use client";

import Link from "next/link";
import { useState } from "react";
import { flushSync } from "react-dom";
import { classes, smallSecondaryButton } from "@/components/ui/classes";
import { FILTER_KEYS, type FilterValues } from "@/lib/changes/filters";
import { revertHref } from "@/lib/changes/revert/target";
import { exportHref } from "@/lib/query/changes";
import { ActivityChart } from "./activity-chart";
import { CaptureBanner, useCaptureInView } from "./capture-health";
import { ChangeFilters } from "./change-filters";
import { ChangeList } from "./change-list";
import { FilterChips } from "./filter-chips";
import { useNow } from "./time";
import { useBrowseUrl } from "./use-browse-url";

/**
 * Filters live in the URL so a view can be shared; the chart and the list follow the URL. Capture health of the
 * databases in view heads it: the list can only be as current as their capture.
 */
export function ChangesBrowser() {
  const { filters, view, setFilters, clearFilters, clearable, setGroupByTransaction } = useBrowseUrl();
  const environment = filters.environment ?? "";
  const capture = useCaptureInView(filters);
  const now = useNow();
  const [filtersOpen, setFiltersOpen] = useState(false);
  const active = FILTER_KEYS.filter((key) => key !== "environment" && filters[key]).length;

  const focusFilters = () => {
    flushSync(() => setFiltersOpen(true));
    document.getElementById("filter-table")?.focus();
  };

  return (
    <div className="space-y-4">
      <CaptureBanner
        capture={capture}
        now={now}
        consequence="The newest changes made there may be missing from this list until capture is live again."
      />
      <div className="flex flex-wrap items-center gap-x-4 gap-y-2">
        <button
          type="button"
          aria-expanded={filtersOpen}
          aria-controls="change-filters"
          onClick={() => setFiltersOpen(!filtersOpen)}
          className={classes(smallSecondaryButton, "shadow-sm")}
          title="Press / to focus the filters"
        >
          {filtersOpen ? "Hide filters" : "Filters"}
          {active > 0 ? (
            <span className="ml-1.5 rounded-full bg-indigo-600 px-1.5 text-xs text-white">{active}</span>
          ) : null}
        </button>
        <label className="flex items-center gap-2 text-sm text-slate-700">
          <input
            type="checkbox"
            className="h-4 w-4 accent-indigo-600"
            checked={view.groupByTransaction}
            onChange={(event) => setGroupByTransaction(event.target.checked)}
          />
          Group by transaction
        </label>
        {filters.context ? (
          <Link
            href={revertHref({
              context: filters.context,
              ...(filters.sourceId ? { sourceId: filters.sourceId } : {}),
            })}
            className={smallSecondaryButton}
          >
            Revert matching context
          </Link>
        ) : null}
        <span className="ml-auto flex items-center gap-2 text-sm text-slate-500">
          Export
          <ExportLink filters={filters} format="ndjson" now={now} />
          <ExportLink filters={filters} format="csv" now={now} />
        </span>
      </div>
      {filtersOpen ? <ChangeFilters filters={filters} environment={environment} onApply={setFilters} /> : null}
      <FilterChips filters={filters} onApply={setFilters} onClearAll={clearFilters} />
      <ActivityChart filters={filters} onSelectRange={setFilters} />
      <ChangeList
        filters={filters}
        environment={environment}
        capture={capture}
        groupByTransaction={view.groupByTransaction}
        filtered={clearable}
        onClearFilters={clearFilters}
        onFocusFilters={focusFilters}
      />
    </div>
  );
}

/**
 * A download of the filtered view. A preset time (`now-1h`) becomes a time when clicked, so the file holds what the
 * range means then; the server's render and the browser's differ there, which is expected.
 */
function ExportLink({ filters, format, now }: { filters: FilterValues; format: "ndjson" | "csv"; now: number }) {
  return (
    <a
      href={exportHref(filters, format, now)}
      download
      suppressHydrationWarning
      onClick={(event) => {
        event.currentTarget.href = exportHref(filters, format, Date.now());
      }}
      className={smallSecondaryButton}
    >
      {format === "ndjson" ? "NDJSON" : "CSV"}
    </a>
  );
}
