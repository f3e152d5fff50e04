import { classes } from "@/components/ui/classes";
import { Identifier } from "@/components/ui/identifier";
import { CellLabel, stacked } from "@/components/ui/stacked-table";
import { toJsonText, type JsonObject } from "@/lib/api/json";
import type { ChangeJson } from "@/lib/changes/api-types";
import { JsonValueView } from "./json-value";

type Row = { column: string; changed: boolean };

/** Columns in the order stored, which is the table's (after image first), each listed once. */
function diffRows(change: ChangeJson): Row[] {
  const { before, after } = change;
  const columns = [...new Set([...Object.keys(after ?? {}), ...Object.keys(before ?? {})])];
  const declared = new Set(change.changedFields ?? []);
  return columns.map((column) => ({
    column,
    changed: change.operation === "UPDATE" && (declared.has(column) || differs(before, after, column)),
  }));
}

function differs(before: JsonObject | null, after: JsonObject | null, column: string): boolean {
  if (!before || !after) return false;
  const a = Object.hasOwn(before, column) ? before[column] : undefined;
  const b = Object.hasOwn(after, column) ? after[column] : undefined;
  if (a === undefined || b === undefined) return a !== b;
  return toJsonText(a) !== toJsonText(b);
}

function cell(image: JsonObject | null, column: string) {
  return image && Object.hasOwn(image, column) ? image[column] : undefined;
}

/** Before/after per column; changed columns highlighted. CREATE has only After, DELETE only Before. */
export function DiffTable({ change }: { change: ChangeJson }) {
  if (change.operation === "TRUNCATE") {
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
  const showBefore = change.operation !== "CREATE";
  const showAfter = change.operation !== "DELETE";
  const beforeMissing = showBefore && change.before === null;
  const rows = diffRows(change);
  const beforeJsonNulls = new Set(change.beforeJsonNullFields ?? []);
  const afterJsonNulls = new Set(change.afterJsonNullFields ?? []);
  return (
    <div className="space-y-2">
      {beforeMissing ? (
        <p className="text-sm text-amber-800">
          The values before this change were not recorded (the table&apos;s replica identity is not FULL).
        </p>
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
            {rows.map(({ column, changed }) => (
              <tr
                key={column}
                role="row"
                data-changed={changed ? "true" : undefined}
                className={classes(stacked.md.row, "align-top", changed ? "bg-amber-50" : "")}
              >
                <th
                  role="rowheader"
                  scope="row"
                  className={classes(
                    "block pb-1 text-left font-mono text-xs font-medium text-slate-700 wrap-anywhere",
                    "md:table-cell md:px-4 md:py-2",
                  )}
                >
                  <Identifier name={column} />
                  {changed ? (
                    <span className="ml-2 rounded bg-amber-200 px-1 text-[10px] uppercase text-amber-900">changed</span>
                  ) : null}
                </th>
                {showBefore ? (
                  <td role="cell" className={`${stacked.md.cell.narrow} md:py-2`}>
                    <CellLabel>Before</CellLabel>
                    <div>
                      {beforeMissing ? (
                        <span className="text-slate-400">—</span>
                      ) : (
                        <JsonValueView value={cell(change.before, column)} jsonNull={beforeJsonNulls.has(column)} />
                      )}
                    </div>
                  </td>
                ) : null}
                {showAfter ? (
                  <td role="cell" className={`${stacked.md.cell.narrow} md:py-2`}>
                    <CellLabel>After</CellLabel>
                    <div>
                      <JsonValueView value={cell(change.after, column)} jsonNull={afterJsonNulls.has(column)} />
                    </div>
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
