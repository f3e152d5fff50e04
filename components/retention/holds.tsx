"use client";

import { useState } from "react";
import { RelativeTime, useNow } from "@/components/changes/time";
import { ListError, ListLoading } from "@/components/team/states";
import { classes, smallSecondaryButton } from "@/components/ui/classes";
import { CellLabel, stacked } from "@/components/ui/stacked-table";
import type { HoldJson } from "@/lib/holds/api-types";
import { useHolds, useReleaseHold } from "./api";
import { HoldForm } from "./hold-form";

const dangerButton = classes(
  "rounded-md border border-red-300 bg-white px-3 py-1.5",
  "text-sm font-medium text-red-700 hover:bg-red-50 disabled:opacity-60",
);

const localTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

/** A span of commit times, in the reader's time zone. */
function spanText(hold: HoldJson): string {
  return `${localTime.format(new Date(hold.from))} to ${localTime.format(new Date(hold.to))}`;
}

/**
 * The holds on the trail: while one is active, the worker drops no partition of its database that overlaps its
 * span, whatever the rules above say. Admins place and release them; viewers read the list.
 */
export function HoldsSection({ canEdit }: { canEdit: boolean }) {
  return (
    <section aria-labelledby="holds-title" className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm sm:p-6">
      <h2 id="holds-title" className="text-base font-semibold">
        Holds
      </h2>
      <p className="mt-1 max-w-3xl text-sm text-slate-500">
        A hold keeps a database&apos;s changes committed between two times, whatever the retention says, until it is
        released (a legal hold, say). Importing an archive places one over what it brings back.
      </p>
      <div className="mt-4 space-y-6">
        {canEdit ? <HoldForm /> : <p className="text-sm text-slate-500">Only admins can place or release holds.</p>}
        <HoldList canEdit={canEdit} />
      </div>
    </section>
  );
}

function HoldList({ canEdit }: { canEdit: boolean }) {
  const query = useHolds();
  const now = useNow();
  if (query.isPending) return <ListLoading label="Loading the holds…" />;
  if (!query.data)
    return <ListError what="the holds" message={query.error?.message} retry={() => void query.refetch()} />;
  const { holds } = query.data;
  if (holds.length === 0) {
    return (
      <p className="rounded-lg border border-dashed border-slate-300 px-6 py-6 text-center text-sm text-slate-500">
        No active holds: retention alone decides what is kept.
      </p>
    );
  }
  return (
    <div className="overflow-hidden rounded-lg border border-slate-200">
      <div role="table" aria-label="Active holds" className={stacked.lg.table}>
        <div role="rowgroup" className={classes(stacked.lg.head, "lg:border-b lg:border-slate-200")}>
          <div role="row" className="lg:table-row">
            {["Database", "Held", "Reason", "Placed", ...(canEdit ? [""] : [])].map((name, i) => (
              <div key={i} role="columnheader" className="lg:table-cell lg:px-4 lg:py-2">
                {name || <span className="sr-only">Actions</span>}
              </div>
            ))}
          </div>
        </div>
        <div role="rowgroup" className={stacked.lg.body}>
          {holds.map((hold) => (
            <HoldRow key={hold.id} hold={hold} now={now} canEdit={canEdit} />
          ))}
        </div>
      </div>
    </div>
  );
}

function HoldRow({ hold, now, canEdit }: { hold: HoldJson; now: number; canEdit: boolean }) {
  const release = useReleaseHold();
  const [confirming, setConfirming] = useState(false);
  const cell = classes(stacked.lg.cell.narrow, "grid-cols-[5rem_minmax(0,1fr)] lg:py-2 lg:align-top");
  return (
    <div role="row" className={stacked.lg.row}>
      <div role="cell" className={cell}>
        <CellLabel until="lg">Database</CellLabel>
        <span className="min-w-0 wrap-anywhere">
          <span className="font-medium">{hold.database.name}</span>{" "}
          <span className="text-slate-500">({hold.database.environment})</span>
        </span>
      </div>
      <div role="cell" className={cell}>
        <CellLabel until="lg">Held</CellLabel>
        <span title={`${hold.from} to ${hold.to} (UTC), the end not included`}>{spanText(hold)}</span>
      </div>
      <div role="cell" className={cell}>
        <CellLabel until="lg">Reason</CellLabel>
        <span className="min-w-0 wrap-anywhere">{hold.reason}</span>
      </div>
      <div role="cell" className={cell}>
        <CellLabel until="lg">Placed</CellLabel>
        <span className="min-w-0 wrap-anywhere">
          <RelativeTime iso={hold.createdAt} now={now} /> <span className="text-slate-500">by {hold.createdBy}</span>
        </span>
      </div>
      {canEdit ? (
        <div role="cell" className={classes(cell, "lg:w-[16rem] lg:text-right")}>
          {confirming ? (
            <div className="flex flex-wrap items-center gap-2 lg:justify-end">
              <button
                type="button"
                className={dangerButton}
                disabled={release.isPending}
                onClick={() => release.mutate(hold.id, { onSuccess: () => setConfirming(false) })}
              >
                {release.isPending ? "Releasing…" : `Release the hold on ${hold.database.name}`}
              </button>
              <button type="button" className={smallSecondaryButton} onClick={() => setConfirming(false)}>
                Cancel
              </button>
            </div>
          ) : (
            <div className="lg:flex lg:justify-end">
              <button
                type="button"
                className={dangerButton}
                aria-label={`Release the hold on ${hold.database.name}: ${hold.reason}`}
                onClick={() => setConfirming(true)}
              >
                Release
              </button>
            </div>
          )}
          {release.error ? (
            <p role="alert" className="text-sm text-red-700">
              Not released: {release.error.message}
            </p>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}
