import Link from "next/link";
import { classes } from "@/components/ui/classes";
import { Identifier } from "@/components/ui/identifier";
import type { ChangeJson } from "@/lib/changes/api-types";
import { OperationBadge } from "./operation-badge";
import { RelativeTime } from "./time";

const MAX_FIELDS_SHOWN = 4;

/** From md up every cell takes the next column of the row, in order. */
const atMd = "md:col-start-auto md:row-start-auto";

export function ChangeRow({ change, now }: { change: ChangeJson; now: number }) {
  const fields = change.operation === "UPDATE" ? (change.changedFields ?? []) : [];
  const shown = fields.slice(0, MAX_FIELDS_SHOWN);
  return (
    <li data-testid="change-row" data-operation={change.operation}>
      {/*
        From md up, one line under the list's column headings. On a phone, two: the operation, the table and the
        environment; then the primary key and the time.
      */}
      <Link
        href={`/changes/${change.id}`}
        className={classes(
          "grid grid-cols-[auto_minmax(0,1fr)_auto] md:grid-cols-[7rem_6rem_minmax(0,2fr)_minmax(0,1fr)_7rem]",
          "items-baseline gap-x-3 gap-y-1 px-4 py-3 text-sm hover:bg-slate-50 md:items-center md:gap-x-4",
        )}
      >
        <span
          className={classes(
            "col-start-3 row-start-2 text-right text-xs text-slate-500",
            atMd,
            "md:text-left md:text-sm",
          )}
        >
          <RelativeTime iso={change.committedAt} now={now} />
        </span>
        <span className={classes("col-start-1 row-start-1", atMd)}>
          <OperationBadge operation={change.operation} />
        </span>
        <span className={classes("col-start-2 row-start-1 min-w-0 wrap-anywhere", atMd)}>
          <span className="font-mono text-slate-900">
            <Identifier name={`${change.schema}.${change.table}`} />
          </span>
          {shown.length > 0 ? (
            <span className="ml-1 text-xs text-slate-500">
              {" "}
              changed {shown.join(", ")}
              {fields.length > shown.length ? ` +${fields.length - shown.length}` : ""}
            </span>
          ) : null}
        </span>
        <span
          className={classes(
            "col-span-2 col-start-1 row-start-2 truncate font-mono text-slate-700",
            atMd,
            "md:col-span-1",
          )}
          title={change.primaryKey ?? undefined}
        >
          {change.primaryKey ?? withoutKey(change)}
        </span>
        <span className={classes("col-start-3 row-start-1 text-right text-xs text-slate-500", atMd, "md:text-left")}>
          {change.environment}
        </span>
      </Link>
    </li>
  );
}

/** What stands where a change without a primary key would show it. */
function withoutKey(change: ChangeJson) {
  if (change.operation !== "TRUNCATE") return <span className="text-slate-400">no primary key</span>;
  return change.partition ? `partition ${change.partition.table}` : "whole table";
}
