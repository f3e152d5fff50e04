"use client";

import { useInfiniteQuery } from "@tanstack/react-query";
import Link from "next/link";
import { classes } from "@/components/ui/classes";
import { LoadMore } from "@/components/ui/load-more";
import type { ChangeDetailJson, ChangeJson } from "@/lib/changes/api-types";
import { changeQueries } from "@/lib/query/changes";
import { OperationBadge } from "./operation-badge";
import { readableKey } from "@/lib/changes/key-text";

/**
 * The other changes of the change's source transaction, in commit order. A transaction can hold millions: the
 * first page comes with the change, "Load more" reads the next by keyset (GET /api/changes/:id/transaction).
 */
export function TransactionPanel({ detail }: { detail: ChangeDetailJson }) {
  const { change: current } = detail;
  const query = useInfiniteQuery(changeQueries.transaction(current.id, detail));
  const changes = query.data?.pages.flatMap((page) => page.changes) ?? detail.transaction;
  const alone = changes.length <= 1 && !query.hasNextPage;
  const shownHere = changes.some((c) => c.id === current.id);
  return (
    <section aria-labelledby="transaction-heading" className="space-y-2">
      <h2 id="transaction-heading" className="text-lg font-semibold">
        Transaction <span className="font-mono">{current.transactionId}</span>
      </h2>
      <p className="text-sm text-slate-500" data-testid="transaction-summary">
        {alone
          ? "This was the only change in its transaction."
          : query.hasNextPage
            ? `The first ${changes.length.toLocaleString("en")} changes of this transaction, in commit order.`
            : `All ${changes.length.toLocaleString("en")} changes of this transaction, in commit order.`}
        {!alone && !shownHere ? ` This change is number ${(current.seq + 1).toLocaleString("en")}.` : ""}
      </p>
      {alone ? null : (
        <ol
          data-testid="transaction"
          className="divide-y divide-slate-100 overflow-hidden rounded-lg border border-slate-200 bg-white"
        >
          {changes.map((c) => (
            <TransactionEntry key={c.id} change={c} current={c.id === current.id} />
          ))}
        </ol>
      )}
      <LoadMore query={query} failed="more of this transaction" />
    </section>
  );
}

function TransactionEntry({ change, current }: { change: ChangeJson; current: boolean }) {
  return (
    <li>
      <Link
        href={`/changes/${change.id}`}
        aria-current={current ? "page" : undefined}
        className={classes(
          "flex items-center gap-3 px-4 py-2 text-sm sm:gap-4",
          current ? "bg-indigo-50" : "hover:bg-slate-50",
        )}
      >
        <span className="w-8 shrink-0 text-right font-mono text-xs text-slate-400 sm:w-10">{change.seq + 1}</span>
        <OperationBadge operation={change.operation} />
        <span className="min-w-0 truncate font-mono">
          {change.schema}.{change.table}
        </span>
        <span className="min-w-0 truncate font-mono text-slate-500">
          {change.primaryKey === null ? "" : readableKey(change.primaryKey)}
        </span>
        {current ? (
          // On a phone the row's colour says it; the words would squeeze the table and key.
          <span className="sr-only ml-auto shrink-0 whitespace-nowrap text-xs text-indigo-700 sm:not-sr-only">
            this change
          </span>
        ) : null}
      </Link>
    </li>
  );
}
