"use client";

import { useState } from "react";
import { classes } from "@/components/ui/classes";
import { Identifier } from "@/components/ui/identifier";
import { CellLabel, stacked } from "@/components/ui/stacked-table";
import { isJsonObject, type JsonValue } from "@/lib/api/json";
import type { ChangeJson } from "@/lib/changes/api-types";
import { diffRows, diffRuns, type DiffRow } from "@/lib/changes/diff";
import { jsonDifferences } from "@/lib/changes/json-diff";
import { marksFor } from "@/lib/changes/json-lines";
import { JsonValueView } from "./json-value";

/** How many unchanged columns a folded run names before "and N more". */
const NAMES_SHOWN = 4;

/**
 * Before/after per column in the table's order. An UPDATE highlights its changed columns and folds the
 * unchanged ones (each run opens on its own, or all with "Expand all"); inside a changed json/jsonb value the
 * keys that differ are highlighted. CREATE has only After, DELETE only Before; TRUNCATE has no images.
 * `beforeNote` says where a before image came from when it is not the change's own (a record's history).
 */
export function DiffTable({ change, beforeNote }: { change: ChangeJson; beforeNote?: string }) {
  const [expandAll, setExpandAll] = useState(false);
  const [opened, setOpened] = useState<ReadonlySet<number>>(new Set());
  if (change.operation === "TRUNCATE") return <TruncateNote change={change} />;

  const showBefore = change.operation !== "CREATE";
  const showAfter = change.operation !== "DELETE";
  const beforeMissing = showBefore && change.before === null;
  const rows = diffRows(change);
  const runs = diffRuns(change.operation, rows);
  const changedCount = rows.filter((row) => row.changed).length;
  const folds = runs.some((run) => run.kind === "unchanged");
  const columnCount = 1 + (showBefore ? 1 : 0) + (showAfter ? 1 : 0);
  return (
    <div className="space-y-2">
      {beforeMissing ? (
        <p className="text-sm text-amber-800">
          The values before this change were not recorded (the table&apos;s replica identity is not FULL).
        </p>
      ) : beforeNote ? (
        <p className="text-sm text-slate-500">{beforeNote}</p>
      ) : null}
      {folds ? (
        <div className="flex flex-wrap items-center justify-between gap-2 text-sm text-slate-600">
          <span>
            {changedCount} of {rows.length} columns changed
          </span>
          <button
            type="button"
            aria-expanded={expandAll}
            onClick={() => {
              setExpandAll(!expandAll);
              setOpened(new Set());
            }}
            className="rounded-md border border-slate-300 bg-white px-3 py-1 text-xs font-medium hover:bg-slate-50"
          >
            {expandAll ? "Collapse unchanged" : "Expand all"}
          </button>
        </div>
      ) : null}
      <div className="relative overflow-x-auto rounded-lg border border-slate-200 bg-white">
        <table role="table" data-testid="diff" className={`${stacked.md.table} md:table-fixed`}>
          <thead role="rowgroup" className={stacked.md.head}>
            <tr role="row">
              <th role="columnheader" scope="col" className="w-40 px-4 py-2 lg:w-48">
                Column
              </th>
              {showBefore ? (
                <th role="columnheader" scope="col" className="px-4 py-2">
                  Before
                </th>
              ) : null}
              {showAfter ? (
                <th role="columnheader" scope="col" className="px-4 py-2">
                  After
                </th>
              ) : null}
            </tr>
          </thead>
          <tbody role="rowgroup" className={stacked.md.body}>
            {runs.map((run, index) =>
              run.kind === "unchanged" && !expandAll && !opened.has(index) ? (
                <FoldedRow
                  key={`fold-${index}`}
                  rows={run.rows}
                  columnCount={columnCount}
                  onOpen={() => setOpened(new Set([...opened, index]))}
                />
              ) : (
                run.rows.map((row) => (
                  <ColumnRow
                    key={row.column}
                    row={row}
                    showBefore={showBefore}
                    showAfter={showAfter}
                    beforeMissing={beforeMissing}
                  />
                ))
              ),
            )}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function ColumnRow({
  row,
  showBefore,
  showAfter,
  beforeMissing,
}: {
  row: DiffRow;
  showBefore: boolean;
  showAfter: boolean;
  beforeMissing: boolean;
}) {
  const differences =
    row.changed && isDocument(row.before) && isDocument(row.after) ? jsonDifferences(row.before, row.after) : [];
  return (
    <tr
      role="row"
      data-column={row.column}
      data-changed={row.changed ? "true" : undefined}
      className={classes(stacked.md.row, "align-top", row.changed ? "bg-amber-50" : "")}
    >
      <th
        role="rowheader"
        scope="row"
        className={classes(
          "block pb-1 text-left font-mono text-xs font-medium text-slate-700 wrap-anywhere",
          "md:table-cell md:px-4 md:py-2",
        )}
      >
        <Identifier name={row.column} />
        {row.changed ? (
          <span className="ml-2 rounded bg-amber-200 px-1 text-[10px] uppercase text-amber-900">changed</span>
        ) : null}
      </th>
      {showBefore ? (
        <td role="cell" className={`${stacked.md.cell.narrow} md:py-2`}>
          <CellLabel>Before</CellLabel>
          <div className="min-w-0">
            {beforeMissing ? (
              <span className="text-slate-400">—</span>
            ) : (
              <JsonValueView
                value={row.before}
                jsonNull={row.beforeJsonNull}
                unavailable={row.unavailable}
                marks={marksFor("before", differences)}
              />
            )}
          </div>
        </td>
      ) : null}
      {showAfter ? (
        <td role="cell" className={`${stacked.md.cell.narrow} md:py-2`}>
          <CellLabel>After</CellLabel>
          <div className="min-w-0">
            <JsonValueView
              value={row.after}
              jsonNull={row.afterJsonNull}
              unavailable={row.unavailable}
              marks={marksFor("after", differences)}
            />
          </div>
        </td>
      ) : null}
    </tr>
  );
}

const isDocument = (value: JsonValue | undefined): value is JsonValue =>
  value !== undefined && (Array.isArray(value) || isJsonObject(value));

function FoldedRow({ rows, columnCount, onOpen }: { rows: DiffRow[]; columnCount: number; onOpen: () => void }) {
  const names = rows.slice(0, NAMES_SHOWN).map((row) => row.column);
  const more = rows.length - names.length;
  return (
    <tr role="row" className="block md:table-row" data-testid="unchanged-columns">
      <td role="cell" colSpan={columnCount} className="block px-4 py-1.5 md:table-cell">
        <button
          type="button"
          onClick={onOpen}
          className="w-full text-left text-xs text-slate-500 hover:text-indigo-700 wrap-anywhere"
        >
          ⋯ {rows.length} unchanged column{rows.length === 1 ? "" : "s"}:{" "}
          <span className="font-mono">{names.join(", ")}</span>
          {more > 0 ? ` and ${more} more` : ""}
        </button>
      </td>
    </tr>
  );
}

function TruncateNote({ change }: { change: ChangeJson }) {
  const { partition } = change;
  return (
    <p className="rounded-lg border border-slate-200 bg-white p-4 text-sm text-slate-600">
      {partition
        ? `TRUNCATE removed every row of partition ${partition.schema}.${partition.table} ` +
          `of ${change.schema}.${change.table}; `
        : `TRUNCATE removed every row of ${change.schema}.${change.table}; `}
      no row images are recorded for it.
    </p>
  );
}
