"use client";

import { useRouter } from "next/navigation";
import { useRef, useState, type ReactNode } from "react";
import { scopedHref } from "@/components/environment";
import { classes, secondaryButton } from "@/components/ui/classes";
import type { ChangeJson } from "@/lib/changes/api-types";
import type { FilterValues } from "@/lib/changes/filters";
import { useChanges } from "./api";
import type { CaptureInView } from "./capture-health";
import { ChangeRow, ROW_COLUMNS } from "./change-row";
import { useListKeyboard } from "./keyboard";
import { EmptyState, ListError, ListSkeleton } from "./list-states";
import { LiveStatus } from "./live-status";
import { useLiveTail } from "./live-tail";
import { useNow } from "./time";
import { groupByTransaction, TransactionHeader } from "./transaction-groups";

type Props = {
  filters: FilterValues;
  /** The header's environment, which links carry. */
  environment: string;
  capture: CaptureInView;
  groupByTransaction: boolean;
  /** Whether filters other than the environment are set: the empty list then offers to clear them. */
  filtered: boolean;
  onClearFilters: () => void;
  onFocusFilters: () => void;
};

export function ChangeList(props: Props) {
  const { filters, environment, capture, filtered, onClearFilters, onFocusFilters } = props;
  const now = useNow();
  const router = useRouter();
  const query = useChanges(filters);
  const listTop = useRef<HTMLDivElement>(null);
  const tail = useLiveTail(filters, query.data?.pages[0]?.liveToken ?? null, listTop);
  const [selectedId, setSelectedId] = useState<string | null>(null);

  // New changes of the tail above the pages; an id seen in both (the list read again) shows once.
  const loaded = query.data?.pages.flatMap((page) => page.changes) ?? [];
  const changes = dedupe([...tail.shown, ...loaded]);
  const selected = changes.findIndex((change) => change.id === selectedId);
  const hrefOf = (change: ChangeJson) => scopedHref(`/changes/${change.id}`, environment);

  const select = (index: number) => {
    const change = changes[Math.max(0, Math.min(changes.length - 1, index))];
    if (!change) return;
    setSelectedId(change.id);
    // The row's link takes the focus: it scrolls into view, and Enter follows it as any link.
    document.querySelector<HTMLElement>(`[data-change-id="${change.id}"] a`)?.focus();
  };
  useListKeyboard({
    next: () => select(selected + 1),
    previous: () => select(selected < 0 ? 0 : selected - 1),
    open: () => {
      const change = changes[selected];
      if (change) router.push(hrefOf(change));
    },
    focusFilters: onFocusFilters,
  });

  if (query.isPending) return <ListSkeleton />;
  if (!query.data) return <ListError message={query.error?.message ?? ""} onRetry={() => void query.refetch()} />;
  if (changes.length === 0) return <EmptyState filtered={filtered} onClearFilters={onClearFilters} />;

  const row = (change: ChangeJson) => (
    <ChangeRow key={change.id} change={change} now={now} href={hrefOf(change)} selected={change.id === selectedId} />
  );
  let rows: ReactNode;
  if (props.groupByTransaction) {
    rows = groupByTransaction(changes).map((group) => (
      <li key={group.key} data-testid="transaction">
        <TransactionHeader group={group} now={now} />
        <ul className="divide-y divide-slate-100">{group.changes.map(row)}</ul>
      </li>
    ));
  } else {
    rows = changes.map(row);
  }

  return (
    <div className="space-y-3">
      {/* Sticky: the live status and its buttons stay in reach at the bottom of a long list. */}
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
        {tail.pending > 0 ? (
          <button
            type="button"
            onClick={tail.reveal}
            className="rounded-full bg-indigo-600 px-3 py-1 text-xs font-medium text-white shadow hover:bg-indigo-700"
          >
            {tail.pending} new {tail.pending === 1 ? "change" : "changes"}
          </button>
        ) : null}
        <LiveStatus capture={capture} tail={tail} />
      </div>
      <div ref={listTop} className="scroll-mt-12 overflow-hidden rounded-lg border border-slate-200 bg-white">
        <div
          aria-hidden
          className={classes(
            "hidden gap-x-4 md:grid",
            ROW_COLUMNS,
            "border-b border-slate-200 bg-slate-50 px-4 py-2",
            "text-xs font-medium uppercase tracking-wide text-slate-500",
          )}
        >
          <span>Time</span>
          <span>Operation</span>
          <span>Table</span>
          <span>Primary key</span>
          <span>Database</span>
        </div>
        <ul className="divide-y divide-slate-100" aria-label="Changes">
          {rows}
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

function dedupe(changes: ChangeJson[]): ChangeJson[] {
  const seen = new Set<string>();
  const unique: ChangeJson[] = [];
  for (const change of changes) {
    if (seen.has(change.id)) continue;
    seen.add(change.id);
    unique.push(change);
  }
  return unique;
}
