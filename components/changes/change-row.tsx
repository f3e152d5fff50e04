import Link from "next/link";
import { classes } from "@/components/ui/classes";
import type { ChangeJson } from "@/lib/changes/api-types";
import { OperationBadge } from "./operation-badge";
import { RelativeTime } from "./time";

const MAX_FIELDS_SHOWN = 4;

export function ChangeRow({ change, now }: { change: ChangeJson; now: number }) {
  const fields = change.operation === "UPDATE" ? (change.changedFields ?? []) : [];
  const shown = fields.slice(0, MAX_FIELDS_SHOWN);
  return (
    <li data-testid="change-row" data-operation={change.operation}>
      <Link
        href={`/changes/${change.id}`}
        className={classes(
          "grid grid-cols-[7rem_6rem_minmax(0,1fr)] md:grid-cols-[7rem_6rem_minmax(0,2fr)_minmax(0,1fr)_7rem]",
          "items-center gap-x-4 gap-y-1 px-4 py-3 text-sm hover:bg-slate-50",
        )}
      >
        <span className="text-slate-500">
          <RelativeTime iso={change.committedAt} now={now} />
        </span>
        <OperationBadge operation={change.operation} />
        <span className="min-w-0">
          <span className="font-mono text-slate-900">
            {change.schema}.{change.table}
          </span>
          {shown.length > 0 ? (
            <span className="ml-2 text-xs text-slate-500">
              changed {shown.join(", ")}
              {fields.length > shown.length ? ` +${fields.length - shown.length}` : ""}
            </span>
          ) : null}
        </span>
        <span
          className="col-start-3 truncate font-mono text-slate-700 md:col-start-auto"
          title={change.primaryKey ?? undefined}
        >
          {change.primaryKey ?? withoutKey(change)}
        </span>
        <span className="hidden text-xs text-slate-500 md:block">{change.environment}</span>
      </Link>
    </li>
  );
}

/** What stands where a change without a primary key would show it. */
function withoutKey(change: ChangeJson) {
  if (change.operation !== "TRUNCATE") return <span className="text-slate-400">no primary key</span>;
  return change.partition ? `partition ${change.partition.table}` : "whole table";
}
