import type { ReactNode } from "react";
import { formatBytes, formatCount } from "@/lib/storage/bytes";

export type SizeRow = {
  key: string;
  name: ReactNode;
  bytes: number;
  rows: number;
  estimated?: boolean;
  /** A short line under the size: what it holds besides the changes. */
  detail?: string;
};

type SizeTableProps = {
  label: string;
  rows: SizeRow[];
  nameHeader: string;
  /** What the size column measures ("On disk", "Estimate"): said where the numbers are. */
  sizeHeader: string;
  /** The last line: what the rows add up to. */
  total: Omit<SizeRow, "key">;
};

function SizeCells({ row }: { row: Omit<SizeRow, "key"> }) {
  return (
    <>
      <td className="whitespace-nowrap py-2 pr-3 text-right align-top tabular-nums">
        {row.estimated ? "~" : ""}
        {formatBytes(row.bytes)}
        {row.detail ? (
          <span className="block whitespace-normal text-xs font-normal text-slate-500">{row.detail}</span>
        ) : null}
      </td>
      <td className="py-2 text-right align-top tabular-nums">{formatCount(row.rows)}</td>
    </>
  );
}

/** Name, size, changes and their total: narrow enough for a phone, the name wrapping where it must. */
export function SizeTable({ label, rows, nameHeader, sizeHeader, total }: SizeTableProps) {
  return (
    <table aria-label={label} className="w-full table-fixed text-sm">
      <thead className="text-left text-xs font-medium uppercase tracking-wide text-slate-500">
        <tr>
          <th scope="col" className="py-2 pr-3">
            {nameHeader}
          </th>
          <th scope="col" className="w-24 py-2 pr-3 text-right sm:w-36">
            {sizeHeader}
          </th>
          <th scope="col" className="w-20 py-2 text-right sm:w-28">
            Changes
          </th>
        </tr>
      </thead>
      <tbody className="divide-y divide-slate-100">
        {rows.map((row) => (
          <tr key={row.key}>
            <td className="py-2 pr-3 align-top wrap-anywhere">{row.name}</td>
            <SizeCells row={row} />
          </tr>
        ))}
      </tbody>
      <tfoot className="border-t border-slate-300 font-medium">
        <tr data-testid="size-total">
          <th scope="row" className="py-2 pr-3 text-left align-top font-medium wrap-anywhere">
            {total.name}
          </th>
          <SizeCells row={total} />
        </tr>
      </tfoot>
    </table>
  );
}
