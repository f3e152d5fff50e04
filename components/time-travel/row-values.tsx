"use client";

import { JsonValueView } from "@/components/changes/json-value";
import type { JsonObject } from "@/lib/api/json";

/** A row's columns and values, one line a column, exact (numbers keep every digit). */
export function RowValues({ row, jsonNullFields }: { row: JsonObject; jsonNullFields: string[] | null }) {
  return (
    <dl className="divide-y divide-slate-100" data-testid="row-values">
      {Object.entries(row).map(([column, value]) => (
        <div
          key={column}
          className="grid grid-cols-[minmax(0,8rem)_minmax(0,1fr)] gap-3 px-4 py-2 sm:grid-cols-[12rem_minmax(0,1fr)]"
        >
          <dt className="font-mono text-xs text-slate-500 wrap-anywhere">{column}</dt>
          <dd className="min-w-0 text-sm wrap-anywhere">
            <JsonValueView value={value} jsonNull={jsonNullFields?.includes(column) ?? false} />
          </dd>
        </div>
      ))}
    </dl>
  );
}
