import type { ReactNode } from "react";
import { classes } from "./classes";

/**
 * A table that is a table from a breakpoint up (md, or lg for a table with many columns) and a stack of cards
 * below it, from one markup: each row is then a card and each cell a line with its column's name in front
 * (CellLabel). The column headers stay for screen readers (sr-only). Changing a table's display can cost it its
 * table semantics in some browsers, so the elements carry their roles explicitly (role="table", "rowgroup",
 * "row", "columnheader", "cell"). Tailwind finds only whole class names, hence one literal set per breakpoint.
 *
 * - `head`: sr-only takes the border off; a table with a line under its header adds it (md:border-b).
 * - `cell.wide` / `cell.narrow`: the label's column fits the table's longest ("Replica identity", "Before");
 *   add the cell's vertical padding from the breakpoint up (md:py-2).
 */
const headText = "bg-slate-50 text-left text-xs font-medium uppercase tracking-wide text-slate-500";
const cellGrid = "grid items-baseline gap-x-3 py-1";
const wide = "grid-cols-[8.5rem_minmax(0,1fr)]";
const narrow = "grid-cols-[3.5rem_minmax(0,1fr)]";

export const stacked = {
  md: {
    table: "block w-full text-sm md:table",
    head: classes("sr-only md:not-sr-only md:table-header-group", headText),
    body: "block divide-y divide-slate-100 md:table-row-group",
    row: "block px-4 py-3 md:table-row md:p-0",
    cell: {
      wide: classes(cellGrid, wide, "md:table-cell md:px-4"),
      narrow: classes(cellGrid, narrow, "md:table-cell md:px-4"),
    },
  },
  lg: {
    table: "block w-full text-sm lg:table",
    head: classes("sr-only lg:not-sr-only lg:table-header-group", headText),
    body: "block divide-y divide-slate-100 lg:table-row-group",
    row: "block px-4 py-3 lg:table-row lg:p-0",
    cell: {
      wide: classes(cellGrid, wide, "lg:table-cell lg:px-4"),
      narrow: classes(cellGrid, narrow, "lg:table-cell lg:px-4"),
    },
  },
};

const labelHidden = { md: "md:hidden", lg: "lg:hidden" };

/** The column's name in front of a cell's value in a card; the table's header says it from `until` up. */
export function CellLabel({ until = "md", children }: { until?: "md" | "lg"; children: ReactNode }) {
  return (
    <span aria-hidden className={`text-xs font-medium uppercase tracking-wide text-slate-500 ${labelHidden[until]}`}>
      {children}
    </span>
  );
}
