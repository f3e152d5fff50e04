"use client";

import { useInfiniteQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { JsonValueView } from "@/components/changes/json-value";
import { LocalAndUtcTime } from "@/components/changes/zoned-time";
import { classes, inputClass, secondaryButton } from "@/components/ui/classes";
import { LoadMore } from "@/components/ui/load-more";
import { ApiError } from "@/lib/api/client";
import { isJsonObject, type JsonObject } from "@/lib/api/json";
import { recordHref } from "@/lib/changes/history-key";
import { readableKey } from "@/lib/changes/key-text";
import type { TableAsOfJson } from "@/lib/changes/as-of-api-types";
import { tableHref, timeTravelQueries, type TableRef } from "@/lib/query/time-travel";
import { formatCount } from "@/lib/storage/bytes";
import { AtPicker } from "./at-picker";

/** /tables: a whole table as it was at a moment, in key order, a page at a time. */
export function TableAsOfView({ tableRef, at }: { tableRef: TableRef | null; at: string | null }) {
  const router = useRouter();
  const [database, setDatabase] = useState(tableRef?.database ?? "");
  const [table, setTable] = useState(tableRef?.table ?? "");
  const go = (iso: string) => {
    if (!table.trim()) return;
    const ref: TableRef = { table: table.trim(), database: database.trim() || undefined, sourceId: tableRef?.sourceId };
    router.push(tableHref(ref, iso));
  };
  return (
    <div className="space-y-6">
      <div>
        <h1 className="text-xl font-semibold tracking-tight sm:text-2xl">A table at a moment</h1>
        <p className="mt-1 text-sm text-slate-500">
          Every row the table held then, with its values then, rebuilt from the trail (and from a baseline for rows that
          have not changed since before tracking began).
        </p>
      </div>
      <div className="space-y-3 rounded-lg border border-slate-200 bg-white p-4">
        <div className="grid gap-3 sm:grid-cols-2">
          <label className="block text-sm font-medium text-slate-700">
            Database
            <input
              name="database"
              value={database}
              onChange={(event) => setDatabase(event.target.value)}
              placeholder="shop"
              className={classes(inputClass, "mt-1")}
            />
          </label>
          <label className="block text-sm font-medium text-slate-700">
            Table
            <input
              name="table"
              value={table}
              onChange={(event) => setTable(event.target.value)}
              placeholder="public.items"
              required
              className={classes(inputClass, "mt-1 font-mono")}
            />
          </label>
        </div>
        <AtPicker at={at} onPick={go} />
      </div>
      {tableRef && at ? (
        <TableRows tableRef={tableRef} at={at} />
      ) : (
        <p className="text-sm text-slate-500">Name a table and pick a moment.</p>
      )}
    </div>
  );
}

function TableRows({ tableRef, at }: { tableRef: TableRef; at: string }) {
  const query = useInfiniteQuery(timeTravelQueries.table(tableRef, at));
  if (query.isPending) {
    return (
      <div aria-busy="true" aria-label="Loading the table" className="h-64 animate-pulse rounded-lg bg-slate-100" />
    );
  }
  if (query.isError && !query.data) {
    return (
      <div role="alert" className="rounded-lg border border-slate-200 bg-white p-6 text-center text-sm">
        <p className="font-medium">Could not read this table</p>
        <p className="mt-1 text-slate-500">
          {query.error instanceof ApiError ? query.error.message : "The server could not be reached."}
        </p>
        <button type="button" onClick={() => void query.refetch()} className={`${secondaryButton} mt-3`}>
          Try again
        </button>
      </div>
    );
  }
  const first = query.data.pages[0];
  const rows = query.data.pages.flatMap((page) => page.rows);
  const name = first ? `${first.table.schema}.${first.table.table}` : tableRef.table;
  const columns = [...new Set(rows.flatMap((row) => (isJsonObject(row.row) ? Object.keys(row.row) : [])))];
  return (
    <section aria-labelledby="rows-heading" className="space-y-3">
      <div className="flex flex-wrap items-baseline gap-x-3 gap-y-1 text-sm text-slate-600">
        <h2 id="rows-heading" className="font-mono text-base font-semibold text-slate-900 wrap-anywhere">
          {name}
        </h2>
        <span>{first?.table.database}</span>
        <span className="text-slate-500">as of</span>
        <LocalAndUtcTime iso={at} />
      </div>
      {first ? <SlowReadNote page={query.data.pages.at(-1) ?? first} /> : null}
      {rows.length === 0 ? (
        <div className="rounded-lg border border-slate-200 bg-white p-8 text-center" data-testid="table-empty">
          <p className="font-medium">No rows then</p>
          <p className="mt-1 text-sm text-slate-500">
            The table was empty at that moment as far as the trail knows. Rows that existed before tracking began and
            have not changed since are known only once a baseline of the table is taken (on its database&apos;s page).
          </p>
        </div>
      ) : (
        <>
          <p className="text-sm text-slate-500" data-testid="table-summary">
            {query.hasNextPage ? `The first ${rows.length} rows by key.` : `${rows.length} rows.`}
            {first && !first.allRowsKnown ? (
              <span data-testid="rows-unknown">
                {" "}
                Only rows changed since tracking began: rows that have not changed since are known once a baseline of
                the table is taken, on{" "}
                <Link href={`/databases/${first.table.sourceId}`} className="font-medium text-indigo-700 underline">
                  its database&apos;s page
                </Link>
                .
              </span>
            ) : null}
          </p>
          <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white">
            <table className="min-w-full text-left text-sm" data-testid="table-rows">
              <thead className="border-b border-slate-200 bg-slate-50 text-xs text-slate-500">
                <tr>
                  <th scope="col" className="px-3 py-2 font-medium">
                    key
                  </th>
                  {columns.map((column) => (
                    <th key={column} scope="col" className="px-3 py-2 font-mono font-medium">
                      {column}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {rows.map((row) => (
                  <tr key={row.primaryKey} className="align-top">
                    <td className="min-w-16 px-3 py-2 font-mono text-xs wrap-anywhere">
                      <Link
                        href={recordHref({
                          table: name,
                          primaryKey: row.primaryKey,
                          database: first?.table.database,
                          sourceId: first?.table.sourceId,
                        }).concat(`&at=${encodeURIComponent(at)}`)}
                        className="text-indigo-700 hover:underline"
                      >
                        {readableKey(row.primaryKey)}
                      </Link>
                      {row.baselineId ? (
                        <span
                          title="Unchanged since before tracking began: as the baseline copied it"
                          className="ml-1.5 rounded bg-slate-100 px-1 font-sans text-[10px] text-slate-500 uppercase"
                        >
                          baseline
                        </span>
                      ) : null}
                    </td>
                    {columns.map((column) => (
                      <td key={column} className="max-w-xs min-w-32 px-3 py-2 wrap-anywhere">
                        <JsonValueView
                          value={(row.row as JsonObject)[column]}
                          jsonNull={row.jsonNullFields?.includes(column) ?? false}
                        />
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <LoadMore query={query} failed="more rows" />
        </>
      )}
    </section>
  );
}

/**
 * A big table's page that read every change up to the moment instead of walking the seals
 * (lib/changes/as-of-walk.ts): why, and that it passes. The rows are right either way; only slower.
 */
function SlowReadNote({ page }: { page: TableAsOfJson }) {
  const slow = page.slowRead;
  if (!slow) return null;
  const why =
    slow.because === "seals-completing"
      ? "the worker is still completing this database's seals from before an upgrade"
      : `about ${formatCount(slow.unsealed)} of the table's changes are not sealed yet`;
  return (
    <p
      className="rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900"
      data-testid="slow-read"
    >
      Each page of this table reads its {formatCount(slow.changes)} changes up to this moment, because {why}. Pages walk
      the sealed keys, in milliseconds, once the sealer has caught up: see the{" "}
      <Link href={`/databases/${page.table.sourceId}`} className="font-medium underline">
        database&apos;s Tamper evidence
      </Link>
      .
    </p>
  );
}
