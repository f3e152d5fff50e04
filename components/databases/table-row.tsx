/**
 * One source table in the table picker: its tracking checkbox, primary key, replica identity and size, and
 * what tracking it takes when Retrace cannot set it up alone.
 */
import { classes } from "@/components/ui/classes";
import { Identifier } from "@/components/ui/identifier";
import { CellLabel, stacked } from "@/components/ui/stacked-table";
import type { SourceTableJson } from "@/lib/sources/api-types";
import { IdentityCell } from "./identity-cell";

export const nameOf = (t: Pick<SourceTableJson, "schema" | "name">) => `${t.schema}.${t.name}`;

const badge = "rounded px-1.5 py-0.5 text-xs";

/** Only for a table that is not tracked yet: what tracking it takes. */
function SetupHint({ table }: { table: SourceTableJson }) {
  if (table.tracked || table.setup === "automatic") return null;
  return table.setup === "ready" ? (
    <span className={classes(badge, "bg-emerald-50 text-emerald-800")} title="Its owner published it for Retrace.">
      ready
    </span>
  ) : (
    <span
      className={classes(badge, "bg-amber-50 text-amber-800")}
      title="Retrace's role does not own it: saving it gives the SQL its owner runs first."
    >
      owner must publish
    </span>
  );
}
const rows = new Intl.NumberFormat("en");

export function TableRow({
  id,
  table,
  selected,
  onToggle,
  canEdit,
}: {
  id: string;
  table: SourceTableJson;
  selected: boolean;
  onToggle: (on: boolean) => void;
  canEdit: boolean;
}) {
  const name = nameOf(table);
  const inputId = `table-${encodeURIComponent(name)}`;
  return (
    <tr role="row" className={classes(stacked.md.row, selected ? "bg-indigo-50/40" : "")}>
      <td role="cell" className="block pb-1 md:table-cell md:px-4 md:py-2">
        <div className="flex items-center gap-2">
          <input
            id={inputId}
            type="checkbox"
            className="h-4 w-4 shrink-0"
            checked={selected}
            onChange={(e) => onToggle(e.target.checked)}
            disabled={!canEdit}
          />
          <label htmlFor={inputId} className="min-w-0 font-mono text-xs wrap-anywhere">
            <Identifier name={name} />
          </label>
          {table.partitioned ? (
            <span className="shrink-0 rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-600">partitioned</span>
          ) : null}
          <SetupHint table={table} />
        </div>
      </td>
      <td role="cell" className={`${stacked.md.cell.wide} md:py-2`}>
        <CellLabel>Primary key</CellLabel>
        <div>
          {table.hasPrimaryKey ? (
            <span className="font-mono text-xs wrap-anywhere">{table.primaryKey.join(", ")}</span>
          ) : (
            <span className="space-y-0.5">
              <span
                className={classes(
                  "rounded bg-amber-50 px-1.5 py-0.5 text-xs font-medium",
                  "text-amber-800 ring-1 ring-inset ring-amber-200",
                )}
              >
                none
              </span>
              <span className="block text-xs text-slate-500">
                Changes are captured whole; a row&apos;s history cannot be followed by key.
              </span>
            </span>
          )}
        </div>
      </td>
      <td role="cell" className={`${stacked.md.cell.wide} text-slate-600 md:py-2`}>
        <CellLabel>Replica identity</CellLabel>
        <IdentityCell id={id} table={table} canEdit={canEdit} />
      </td>
      <td role="cell" className={`${stacked.md.cell.wide} tabular-nums text-slate-600 md:py-2 md:text-right`}>
        <CellLabel>Approx. rows</CellLabel>
        <span>{table.approxRows === null ? "—" : rows.format(table.approxRows)}</span>
      </td>
    </tr>
  );
}
