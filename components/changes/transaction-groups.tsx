import { classes } from "@/components/ui/classes";
import type { ChangeJson } from "@/lib/changes/api-types";
import { contextEntries } from "./change-row";
import { RelativeTime } from "./time";
import { DatabaseName } from "./database-name";

export type TransactionGroup = { key: string; changes: ChangeJson[] };

/**
 * Rows in a run that belong to one source transaction, in list order. A transaction's changes are stored together,
 * so they sit side by side in the list; one that spans a page boundary stays one group once both pages are loaded.
 */
export function groupByTransaction(changes: readonly ChangeJson[]): TransactionGroup[] {
  const groups: TransactionGroup[] = [];
  for (const change of changes) {
    const key = `${change.sourceId}:${change.transactionId}`;
    const last = groups.at(-1);
    if (last && last.key === key) last.changes.push(change);
    else groups.push({ key, changes: [change] });
  }
  return groups;
}

/** What a transaction's changes share: its id, its database, when it committed, and its context. */
export function TransactionHeader({ group, now }: { group: TransactionGroup; now: number }) {
  const [first] = group.changes;
  if (!first) return null;
  const count = group.changes.length;
  const context = contextEntries(first.context).slice(0, 3);
  return (
    <div
      data-testid="transaction-header"
      className={classes(
        "flex flex-wrap items-baseline gap-x-3 gap-y-0.5 border-b border-slate-100 bg-slate-50 px-4 py-1.5",
        "text-xs text-slate-600",
      )}
    >
      <span className="font-medium text-slate-800">Transaction {first.transactionId}</span>
      <span>
        {count} {count === 1 ? "change" : "changes"}
      </span>
      <span>
        <DatabaseName names={first} /> · {first.environment}
      </span>
      <RelativeTime iso={first.committedAt} now={now} />
      {context.map(([key, value]) => (
        <span key={key} className="min-w-0 wrap-anywhere">
          <span className="text-slate-400">{key}</span> {value}
        </span>
      ))}
    </div>
  );
}
