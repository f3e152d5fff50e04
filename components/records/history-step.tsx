"use client";

import Link from "next/link";
import { DiffTable } from "@/components/changes/diff-table";
import { OperationBadge } from "@/components/changes/operation-badge";
import { RelativeTime } from "@/components/changes/time";
import { LocalAndUtcTime } from "@/components/changes/zoned-time";
import { classes } from "@/components/ui/classes";
import { toJsonText } from "@/lib/api/json";
import type { ChangeJson } from "@/lib/changes/api-types";

/**
 * One change of a record's timeline. Its diff is from the row as it was before: the change's own before image,
 * or, where the table does not record one (replica identity not FULL), the row as the previous change left it.
 */
export function HistoryStep({
  change,
  previous,
  now,
}: {
  change: ChangeJson;
  /** The change before it in the row's history, when loaded. */
  previous: ChangeJson | undefined;
  now: number;
}) {
  const { change: shown, note } = withBefore(change, previous);
  const context = Object.entries(change.context);
  return (
    <li className="relative space-y-3" data-testid="history-step" data-operation={change.operation}>
      <span
        aria-hidden
        className={classes(
          "absolute top-1.5 -left-8 hidden h-3.5 w-3.5 sm:block",
          "rounded-full border-2 border-white bg-indigo-500",
        )}
      />
      <div className="flex flex-wrap items-center gap-x-3 gap-y-1 text-sm">
        <OperationBadge operation={change.operation} />
        <Link href={`/changes/${change.id}`} className="font-medium text-indigo-700 hover:underline">
          Change {change.id}
        </Link>
        <span className="text-slate-500">
          <RelativeTime iso={change.committedAt} now={now} />
        </span>
        <span className="text-xs text-slate-500">
          transaction <span className="font-mono">{change.transactionId}</span>
        </span>
      </div>
      <div className="text-xs text-slate-500">
        <LocalAndUtcTime iso={change.committedAt} />
      </div>
      {context.length > 0 ? (
        <p className="text-xs text-slate-600 wrap-anywhere">
          {context.map(([key, value], index) => (
            <span key={key}>
              {index > 0 ? " · " : ""}
              <span className="font-mono text-slate-500">{key}</span>{" "}
              {typeof value === "string" ? value : toJsonText(value)}
            </span>
          ))}
        </p>
      ) : null}
      <DiffTable change={shown} beforeNote={note} />
    </li>
  );
}

/** The change with a before image to diff from: its own, or the previous change's after image. */
function withBefore(change: ChangeJson, previous: ChangeJson | undefined): { change: ChangeJson; note?: string } {
  const needsBefore = change.operation === "UPDATE" || change.operation === "DELETE";
  if (!needsBefore || change.before !== null || !previous?.after) return { change };
  return {
    change: { ...change, before: previous.after, beforeJsonNullFields: previous.afterJsonNullFields },
    note:
      "Before: the row as the previous change left it (this table does not record the values before a change; " +
      "its replica identity is not FULL).",
  };
}
