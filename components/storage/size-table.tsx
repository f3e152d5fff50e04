import type { ReactNode } from "react";
import { formatBytes, formatCount } from "@/lib/storage/bytes";

export type SizeRow = { key: string; name: ReactNode; bytes: number; rows: number; estimated?: boolean };

/** Name, size, changes: narrow enough for a phone, the name wrapping where it must. */
export function SizeTable({ label, rows, nameHeader }: { label: string; rows: SizeRow[]; nameHeader: string }) {
  return (
    <table aria-label={label} className="w-full table-fixed text-sm">
      <thead className="text-left text-xs font-medium uppercase tracking-wide text-slate-500">
        <tr>
          <th scope="col" className="py-2 pr-3">
            {nameHeader}
          </th>
          <th scope="col" className="w-20 py-2 pr-3 text-right sm:w-28">
            Size
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
            <td className="whitespace-nowrap py-2 pr-3 text-right align-top tabular-nums">
              {row.estimated ? "~" : ""}
              {formatBytes(row.bytes)}
            </td>
            <td className="py-2 text-right align-top tabular-nums">{formatCount(row.rows)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
