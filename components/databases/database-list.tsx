"use client";

import Link from "next/link";
import { useState } from "react";
import { RelativeTime, useNow } from "@/components/changes/time";
import { scopedHref, useEnvironment } from "@/components/environment";
import { classes } from "@/components/ui/classes";
import { Identifier } from "@/components/ui/identifier";
import { CellLabel, stacked } from "@/components/ui/stacked-table";
import type { DatabaseJson } from "@/lib/sources/api-types";
import { useDatabases } from "./api";
import { EnvironmentBadge, environmentLabel, StatusBadge } from "./badges";
import { CaptureNote } from "./capture-health";
import { DatabaseActions } from "./database-actions";
import { Lag } from "./lag";
import { WalRetained } from "./slot";

export const connectLinkClass =
  "inline-flex items-center rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-700";

export function DatabaseList({ canEdit }: { canEdit: boolean }) {
  const now = useNow();
  const environment = useEnvironment();
  const query = useDatabases();
  const [showRemoved, setShowRemoved] = useState(false);

  if (query.isPending) {
    return (
      <div role="status" aria-live="polite" className="space-y-2">
        <span className="sr-only">Loading databases…</span>
        {[0, 1, 2].map((i) => (
          <div key={i} className="h-12 animate-pulse rounded-md bg-slate-200/70" aria-hidden />
        ))}
      </div>
    );
  }
  if (!query.data) {
    return (
      <div role="alert" className="rounded-lg border border-red-200 bg-red-50 p-6 text-sm text-red-800">
        <p className="font-medium">Could not load databases.</p>
        <p className="mt-1">{query.error?.message}</p>
        <button type="button" onClick={() => void query.refetch()} className="mt-3 font-medium underline">
          Try again
        </button>
      </div>
    );
  }

  // Removed databases (their changes kept) are listed only on request.
  const removedCount = query.data.databases.filter((database) => database.removedAt !== null).length;
  const all = query.data.databases.filter((database) => showRemoved || database.removedAt === null);
  // The header's environment scopes the list; the list is small, so it is narrowed here.
  const databases = environment ? all.filter((database) => database.environment === environment) : all;
  const removedToggle =
    removedCount > 0 ? (
      <label className="inline-flex items-center gap-2 text-sm text-slate-600">
        <input type="checkbox" checked={showRemoved} onChange={(event) => setShowRemoved(event.target.checked)} />
        Show removed ({removedCount})
      </label>
    ) : null;
  if (all.length > 0 && databases.length === 0) {
    return (
      <div className="rounded-lg border border-dashed border-slate-300 bg-white px-6 py-12 text-center">
        <h2 className="text-base font-semibold">No databases in {environmentLabel(environment)}</h2>
        <p className="mx-auto mt-1 max-w-md text-sm text-slate-500">
          {all.length} {all.length === 1 ? "database is" : "databases are"} connected in other environments.
        </p>
        <Link href="/databases" className="mt-4 inline-block text-sm font-medium text-indigo-700 hover:underline">
          Show all environments
        </Link>
      </div>
    );
  }
  const empty = databases.length === 0;
  if (empty) {
    return (
      <div className="rounded-lg border border-dashed border-slate-300 bg-white px-6 py-12 text-center">
        <h2 className="text-base font-semibold">No databases connected yet</h2>
        <p className="mx-auto mt-1 max-w-md text-sm text-slate-500">
          Connect a PostgreSQL database, pick the tables to track, and every change to them is recorded from then on.
        </p>
        {canEdit ? (
          <Link href="/databases/new" className={`${connectLinkClass} mt-6`}>
            Connect PostgreSQL Database
          </Link>
        ) : (
          <p className="mt-4 text-sm text-slate-500">Ask an admin to connect one.</p>
        )}
        {removedToggle ? <div className="mt-4">{removedToggle}</div> : null}
      </div>
    );
  }

  return (
    <div className="space-y-4">
      {canEdit || removedToggle ? (
        <div className="flex flex-wrap items-center justify-end gap-x-6 gap-y-3">
          {removedToggle}
          {canEdit ? (
            <Link href="/databases/new" className={connectLinkClass}>
              Connect PostgreSQL Database
            </Link>
          ) : null}
        </div>
      ) : null}
      <div className="relative rounded-lg border border-slate-200 bg-white lg:overflow-x-auto">
        <table role="table" className={`${stacked.lg.table} lg:min-w-full`}>
          <thead role="rowgroup" className={`${stacked.lg.head} lg:border-b lg:border-slate-200`}>
            <tr role="row">
              {["Name", "Environment", "Host / Database", "Status", "Lag", "WAL retained"].map((heading) => (
                <th key={heading} role="columnheader" scope="col" className="px-4 py-2">
                  {heading}
                </th>
              ))}
              <th role="columnheader" scope="col" className="px-4 py-2 text-right">
                Tables tracked
              </th>
              <th role="columnheader" scope="col" className="px-4 py-2">
                Changes
              </th>
              {canEdit ? (
                <th role="columnheader" scope="col" className="px-4 py-2">
                  <span className="sr-only">Actions</span>
                </th>
              ) : null}
            </tr>
          </thead>
          <tbody role="rowgroup" className={stacked.lg.body}>
            {databases.map((database) => (
              <DatabaseRow
                key={database.id}
                database={database}
                canEdit={canEdit}
                now={now}
                environment={environment}
              />
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

/** On a phone a row is a card: the name and the environment head it; the other cells follow, labelled. */
const cardHeadCell = "lg:table-cell lg:px-4 lg:py-3";
const cell = classes(stacked.lg.cell.wide, "col-span-2 lg:py-3");
const row = classes(
  "grid grid-cols-[minmax(0,1fr)_auto] items-center gap-x-3 gap-y-0.5 px-4 py-3 align-top",
  "lg:table-row lg:p-0",
);

function DatabaseRow({
  database,
  canEdit,
  now,
  environment,
}: {
  database: DatabaseJson;
  canEdit: boolean;
  now: number;
  environment: string;
}) {
  return (
    <tr role="row" className={row}>
      <td role="cell" className={classes("pb-1 font-medium wrap-anywhere lg:wrap-normal", cardHeadCell)}>
        <Link href={scopedHref(`/databases/${database.id}`, environment)} className="text-indigo-700 hover:underline">
          {database.name}
        </Link>
      </td>
      <td role="cell" className={classes("pb-1", cardHeadCell)}>
        <EnvironmentBadge environment={database.environment} />
      </td>
      <td role="cell" className={cell}>
        <CellLabel until="lg">Host</CellLabel>
        <span className="font-mono text-xs text-slate-600 wrap-anywhere lg:wrap-normal">
          <Identifier
            name={database.host ? `${database.host}:${database.port}/${database.database}` : database.database}
          />
        </span>
      </td>
      <td role="cell" className={classes(cell, "lg:max-w-xs")}>
        <CellLabel until="lg">Status</CellLabel>
        <div>
          <StatusBadge state={database.health.state} />
          <CaptureNote database={database} now={now} />
        </div>
      </td>
      <td role="cell" className={classes(cell, "text-slate-600")}>
        <CellLabel until="lg">Lag</CellLabel>
        <Lag database={database} now={now} />
      </td>
      <td role="cell" className={classes(cell, "text-slate-600")}>
        <CellLabel until="lg">WAL retained</CellLabel>
        <WalRetained database={database} />
      </td>
      <td role="cell" className={classes(cell, "tabular-nums lg:text-right")}>
        <CellLabel until="lg">Tables tracked</CellLabel>
        <Link href={scopedHref(`/databases/${database.id}/tables`, environment)} className="hover:underline">
          {database.trackedTableCount}
        </Link>
      </td>
      <td role="cell" className={classes(cell, "text-slate-600")}>
        <CellLabel until="lg">Changes</CellLabel>
        <span>
          <span className="block whitespace-nowrap">
            {database.lastChangeAt ? (
              <>
                last <RelativeTime iso={database.lastChangeAt} now={now} />
              </>
            ) : (
              "none yet"
            )}
          </span>
          <span className="block text-xs whitespace-nowrap tabular-nums text-slate-500">
            {database.changesLast24h.toLocaleString("en-US")} in 24 h
          </span>
        </span>
      </td>
      {canEdit ? (
        <td role="cell" className={classes("col-span-2 pt-2", cardHeadCell)}>
          <DatabaseActions database={database} />
        </td>
      ) : null}
    </tr>
  );
}
