import Link from "next/link";
import { classes } from "@/components/ui/classes";
import { Identifier } from "@/components/ui/identifier";
import { toJsonText, type JsonObject } from "@/lib/api/json";
import type { ChangeJson } from "@/lib/changes/api-types";
import { readableKey } from "@/lib/changes/key-text";
import { OperationBadge } from "./operation-badge";
import { RelativeTime } from "./time";
import { DatabaseName } from "./database-name";

const MAX_FIELDS_SHOWN = 4;
const MAX_CONTEXT_SHOWN = 3;

/** Context keys an audit reader looks for first: who, then through what. */
const CONTEXT_FIRST = ["user", "user_id", "userId", "email", "actor", "endpoint", "route", "path", "job", "action"];

/** Who and which endpoint first, then the rest in their order, each as `key value` text. */
export function contextEntries(context: JsonObject): [string, string][] {
  const rank = (key: string) => {
    const at = CONTEXT_FIRST.indexOf(key);
    return at < 0 ? CONTEXT_FIRST.length : at;
  };
  return Object.entries(context)
    .map(([key, value]): [string, string] => [key, typeof value === "string" ? value : toJsonText(value)])
    .sort(([a], [b]) => rank(a) - rank(b));
}

/** The columns from md up; the list's headings use the same. */
export const ROW_COLUMNS = "md:grid-cols-[7rem_6rem_minmax(0,2fr)_minmax(0,1fr)_10rem]";

/** From md up every cell takes the next column of the row, in order. */
const atMd = "md:col-start-auto md:row-start-auto";

export function ChangeRow({
  change,
  now,
  href,
  selected,
}: {
  change: ChangeJson;
  now: number;
  href: string;
  selected: boolean;
}) {
  const fields = change.operation === "UPDATE" ? (change.changedFields ?? []) : [];
  const shown = fields.slice(0, MAX_FIELDS_SHOWN);
  const context = contextEntries(change.context);
  return (
    <li data-testid="change-row" data-operation={change.operation} data-change-id={change.id} aria-current={selected}>
      {/*
        From md up, one line under the list's column headings, the context under it. On a phone: the operation,
        the table; then the primary key and the database; then the time and the context.
      */}
      <Link
        href={href}
        className={classes(
          "grid grid-cols-[auto_minmax(0,1fr)_auto]",
          ROW_COLUMNS,
          "items-baseline gap-x-3 gap-y-1 px-4 py-3 text-sm md:items-center md:gap-x-4",
          selected ? "bg-indigo-50 outline-2 -outline-offset-2 outline-indigo-400" : "hover:bg-slate-50",
        )}
      >
        <span className={classes("col-start-1 row-start-3 text-xs text-slate-500", atMd, "md:text-left md:text-sm")}>
          <RelativeTime iso={change.committedAt} now={now} />
        </span>
        <span className={classes("col-start-1 row-start-1", atMd)}>
          <OperationBadge operation={change.operation} />
        </span>
        <span className={classes("col-span-2 col-start-2 row-start-1 min-w-0 wrap-anywhere", atMd, "md:col-span-1")}>
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
          {change.primaryKey !== null ? readableKey(change.primaryKey) : withoutKey(change)}
        </span>
        <span
          className={classes("col-start-3 row-start-2 min-w-0 text-right text-xs text-slate-500", atMd, "md:text-left")}
        >
          <DatabaseName names={change} className="text-slate-700" /> · {change.environment}
        </span>
        {context.length > 0 ? (
          <span
            data-testid="change-context"
            className={classes(
              "col-span-2 col-start-2 row-start-3 flex min-w-0 flex-wrap gap-x-3 gap-y-0.5 text-xs text-slate-500",
              "md:col-span-3 md:col-start-3 md:row-start-2",
            )}
          >
            {context.slice(0, MAX_CONTEXT_SHOWN).map(([key, value]) => (
              <span key={key} className="min-w-0 wrap-anywhere">
                <span className="text-slate-400">{key}</span> <span className="text-slate-700">{value}</span>
              </span>
            ))}
            {context.length > MAX_CONTEXT_SHOWN ? <span>+{context.length - MAX_CONTEXT_SHOWN}</span> : null}
          </span>
        ) : null}
      </Link>
    </li>
  );
}

/** What stands where a change without a primary key would show it. */
function withoutKey(change: ChangeJson) {
  if (change.operation !== "TRUNCATE") return <span className="text-slate-400">no primary key</span>;
  return change.partition ? `partition ${change.partition.table}` : "whole table";
}
