"use client";

import Link from "next/link";
import { RelativeTime, useNow } from "@/components/changes/time";
import { useDatabases } from "./api";
import { EnvironmentBadge, StatusBadge } from "./badges";
import { DatabaseActions } from "./database-actions";
import { Lag } from "./lag";

export const connectLinkClass =
  "inline-flex items-center rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-700";

export function DatabaseList({ canEdit }: { canEdit: boolean }) {
  const now = useNow();
  const query = useDatabases();

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

  const { databases } = query.data;
  if (databases.length === 0) {
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
      </div>
    );
  }

  return (
    <div className="space-y-4">
      {canEdit ? (
        <div className="flex justify-end">
          <Link href="/databases/new" className={connectLinkClass}>
            Connect PostgreSQL Database
          </Link>
        </div>
      ) : null}
      <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white">
        <table className="min-w-full divide-y divide-slate-200 text-sm">
          <thead className="bg-slate-50 text-left text-xs font-medium uppercase tracking-wide text-slate-500">
            <tr>
              <th scope="col" className="px-4 py-2">
                Name
              </th>
              <th scope="col" className="px-4 py-2">
                Environment
              </th>
              <th scope="col" className="px-4 py-2">
                Host / Database
              </th>
              <th scope="col" className="px-4 py-2">
                Status
              </th>
              <th scope="col" className="px-4 py-2">
                Lag
              </th>
              <th scope="col" className="px-4 py-2 text-right">
                Tables tracked
              </th>
              <th scope="col" className="px-4 py-2">
                Last change
              </th>
              {canEdit ? (
                <th scope="col" className="px-4 py-2">
                  <span className="sr-only">Actions</span>
                </th>
              ) : null}
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {databases.map((database) => (
              <tr key={database.id} className="align-top">
                <td className="px-4 py-3 font-medium">
                  <Link href={`/databases/${database.id}`} className="text-indigo-700 hover:underline">
                    {database.name}
                  </Link>
                </td>
                <td className="px-4 py-3">
                  <EnvironmentBadge environment={database.environment} />
                </td>
                <td className="px-4 py-3 font-mono text-xs text-slate-600">
                  {database.host}:{database.port}/{database.database}
                </td>
                <td className="max-w-xs px-4 py-3">
                  <StatusBadge status={database.status} />
                  {database.lastError ? (
                    <p className="mt-1 break-words text-xs text-red-700">{database.lastError}</p>
                  ) : null}
                </td>
                <td className="px-4 py-3 text-slate-600">
                  <Lag database={database} now={now} />
                </td>
                <td className="px-4 py-3 text-right tabular-nums">
                  <Link href={`/databases/${database.id}/tables`} className="hover:underline">
                    {database.trackedTableCount}
                  </Link>
                </td>
                <td className="px-4 py-3 text-slate-600">
                  {database.lastChangeAt ? <RelativeTime iso={database.lastChangeAt} now={now} /> : "—"}
                </td>
                {canEdit ? (
                  <td className="px-4 py-3">
                    <DatabaseActions database={database} />
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
