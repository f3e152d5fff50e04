"use client";

import { useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { classes, secondaryButton } from "@/components/ui/classes";
import type { FilterValues } from "@/lib/changes/filters";
import { changeQueries } from "@/lib/query/changes";
import { useChanges } from "./api";
import { captureSummary, type CaptureInView } from "./capture-health";
import { ChangeRow } from "./change-row";
import { useNow } from "./time";

export function ChangeList({
  filters,
  capture,
  onClearFilters,
}: {
  filters: FilterValues;
  capture: CaptureInView;
  onClearFilters: () => void;
}) {
  const now = useNow();
  const queryClient = useQueryClient();
  const { queryKey } = changeQueries.list(filters);
  const query = useChanges(filters);

  /** Back to the first page, refreshed, and live again. */
  const showNewest = () => {
    queryClient.setQueryData(queryKey, (data) =>
      data ? { pages: data.pages.slice(0, 1), pageParams: data.pageParams.slice(0, 1) } : data,
    );
    void query.refetch();
    window.scrollTo({ top: 0 });
  };

  if (query.isPending) return <ListSkeleton />;
  if (!query.data) {
    return (
      <div role="alert" className="rounded-lg border border-red-200 bg-red-50 p-6 text-sm text-red-800">
        <p className="font-medium">Could not load changes.</p>
        <p className="mt-1">{query.error?.message}</p>
        <button type="button" onClick={() => void query.refetch()} className="mt-3 font-medium underline">
          Try again
        </button>
      </div>
    );
  }

  const changes = query.data.pages.flatMap((page) => page.changes);
  const filtered = Object.keys(filters).length > 0;
  if (changes.length === 0) return <EmptyState filtered={filtered} onClearFilters={onClearFilters} />;

  return (
    <div className="space-y-3">
      {/* Sticky: "Show newest" stays in reach after Load more, at the bottom of a long list. */}
      <div
        className={classes(
          "sticky top-0 z-10 -mx-1 flex flex-wrap items-center justify-between gap-x-4 gap-y-1",
          "bg-slate-50/95 px-1 py-2 text-xs text-slate-500 backdrop-blur",
        )}
      >
        <span>
          {changes.length} {changes.length === 1 ? "change" : "changes"}
          {query.hasNextPage ? " loaded" : ""}
        </span>
        <LiveStatus
          capture={capture}
          paused={query.data.pages.length > 1}
          refreshError={query.isRefetchError ? (query.error?.message ?? "") : null}
          onShowNewest={showNewest}
        />
      </div>
      <div className="overflow-hidden rounded-lg border border-slate-200 bg-white">
        <div
          aria-hidden
          className={classes(
            "hidden grid-cols-[7rem_6rem_minmax(0,2fr)_minmax(0,1fr)_7rem] gap-x-4 md:grid",
            "border-b border-slate-200 bg-slate-50 px-4 py-2",
            "text-xs font-medium uppercase tracking-wide text-slate-500",
          )}
        >
          <span>Time</span>
          <span>Operation</span>
          <span>Table</span>
          <span>Primary key</span>
          <span>Environment</span>
        </div>
        <ul className="divide-y divide-slate-100" aria-label="Changes">
          {changes.map((change) => (
            <ChangeRow key={change.id} change={change} now={now} />
          ))}
        </ul>
      </div>
      {query.isFetchNextPageError ? (
        <p role="alert" className="text-sm text-red-700">
          Could not load more: {query.error?.message}
        </p>
      ) : null}
      {query.hasNextPage ? (
        <div className="flex justify-center">
          <button
            type="button"
            onClick={() => void query.fetchNextPage()}
            disabled={query.isFetchingNextPage}
            className={`${secondaryButton} shadow-sm`}
          >
            {query.isFetchingNextPage ? "Loading…" : "Load more"}
          </button>
        </div>
      ) : null}
    </div>
  );
}

/**
 * Whether the list is following new changes, and if not, why (and the way back). "Live" only while the list
 * refreshes and capture of every database in view is live (CaptureBanner above the list says what is wrong).
 */
function LiveStatus({
  capture,
  paused,
  refreshError,
  onShowNewest,
}: {
  capture: CaptureInView;
  paused: boolean;
  refreshError: string | null;
  onShowNewest: () => void;
}) {
  if (paused) {
    return (
      <span role="status" className="flex flex-wrap items-center gap-x-2">
        Live updates paused while older changes are shown
        <button type="button" onClick={onShowNewest} className="font-medium text-indigo-700 hover:underline">
          Show newest
        </button>
      </span>
    );
  }
  if (refreshError !== null) {
    return (
      <span role="status" className="text-amber-700 wrap-anywhere">
        Live updates paused: {refreshError}
      </span>
    );
  }
  if (capture.state === "not-live") {
    const failing = capture.problems.some((database) => database.health.state === "failing");
    return (
      <span role="status" className={`flex items-center gap-1.5 ${failing ? "text-red-700" : "text-amber-800"}`}>
        <span className={`h-2 w-2 shrink-0 rounded-full ${failing ? "bg-red-500" : "bg-amber-500"}`} aria-hidden />
        <span className="wrap-anywhere">Not live: {captureSummary(capture.problems, { inSentence: true })}</span>
      </span>
    );
  }
  if (capture.state === "unknown") {
    return (
      <span role="status" className="flex items-center gap-1.5" title={capture.error ?? undefined}>
        <span className="h-2 w-2 rounded-full bg-slate-400" aria-hidden />
        {capture.error ? "Capture status unknown" : "Checking capture…"}
      </span>
    );
  }
  return (
    <span className="flex items-center gap-1.5" title="Every database in view streams: new changes appear here">
      <span className="h-2 w-2 rounded-full bg-emerald-500" aria-hidden />
      Live
    </span>
  );
}

export function ListSkeleton() {
  return (
    <div
      aria-busy="true"
      aria-label="Loading changes"
      className="overflow-hidden rounded-lg border border-slate-200 bg-white"
    >
      {Array.from({ length: 6 }, (_, i) => (
        <div
          key={i}
          className="flex animate-pulse items-center gap-4 border-b border-slate-100 px-4 py-4 last:border-0"
        >
          <div className="h-3 w-20 rounded bg-slate-200" />
          <div className="h-4 w-16 rounded-full bg-slate-200" />
          <div className="h-3 w-48 rounded bg-slate-200" />
          <div className="ml-auto h-3 w-16 rounded bg-slate-200" />
        </div>
      ))}
    </div>
  );
}

function EmptyState({ filtered, onClearFilters }: { filtered: boolean; onClearFilters: () => void }) {
  return (
    <div className="rounded-lg border border-dashed border-slate-300 bg-white p-10 text-center">
      {filtered ? (
        <>
          <p className="font-medium text-slate-900">No changes match these filters</p>
          <p className="mt-1 text-sm text-slate-500">New matching changes will appear here as they happen.</p>
          <button
            type="button"
            onClick={onClearFilters}
            className="mt-4 text-sm font-medium text-indigo-700 hover:underline"
          >
            Clear filters
          </button>
        </>
      ) : (
        <>
          <p className="font-medium text-slate-900">No changes yet</p>
          <p className="mt-1 text-sm text-slate-500">
            Changes appear here seconds after they are committed in a tracked table.{" "}
            <Link href="/databases/new" className="font-medium text-indigo-700 hover:underline">
              Connect a database
            </Link>{" "}
            to start capturing them.
          </p>
        </>
      )}
    </div>
  );
}
