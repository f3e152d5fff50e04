"use client";

import Link from "next/link";
import type { ReactNode } from "react";
import { classes } from "@/components/ui/classes";
import { Identifier } from "@/components/ui/identifier";
import { ApiError } from "@/lib/api/client";
import { toJsonText } from "@/lib/api/json";
import type { ChangeJson } from "@/lib/changes/api-types";
import { useChange } from "./api";
import { CaptureBanner, useCaptureOf } from "./capture-health";
import { DiffTable } from "./diff-table";
import { OperationBadge } from "./operation-badge";
import { exactTime, RelativeTime, useNow } from "./time";

export function ChangeDetail({ id }: { id: string }) {
  const now = useNow();
  const query = useChange(id);

  if (query.isPending) {
    return <div aria-busy="true" aria-label="Loading change" className="h-64 animate-pulse rounded-lg bg-slate-100" />;
  }
  if (query.isError) {
    const notFound = query.error instanceof ApiError && query.error.status === 404;
    return (
      <div role="alert" className="rounded-lg border border-slate-200 bg-white p-8 text-center">
        <p className="font-medium">{notFound ? "Change not found" : "Could not load this change"}</p>
        <p className="mt-1 text-sm text-slate-500">
          {notFound ? `There is no change with id ${id}.` : query.error.message}
        </p>
        <BackLink />
      </div>
    );
  }

  const { change, transaction, transactionTruncated } = query.data;
  return <LoadedChange change={change} transaction={transaction} truncated={transactionTruncated} now={now} />;
}

function LoadedChange({
  change,
  transaction,
  truncated,
  now,
}: {
  change: ChangeJson;
  transaction: ChangeJson[];
  truncated: boolean;
  now: number;
}) {
  const capture = useCaptureOf(change.sourceId);
  const context = Object.keys(change.context).length > 0 ? toJsonText(change.context, 2) : null;
  return (
    <div className="space-y-8">
      <div>
        <BackLink />
        <h1
          className={classes(
            "mt-3 flex flex-wrap items-center gap-x-3 gap-y-1",
            "text-xl font-semibold tracking-tight sm:text-2xl",
          )}
        >
          <OperationBadge operation={change.operation} />
          <span className="min-w-0 font-mono wrap-anywhere">
            <Identifier name={`${change.schema}.${change.table}`} />
          </span>
          {change.primaryKey !== null ? (
            <span className="min-w-0 font-mono text-slate-500 wrap-anywhere">{change.primaryKey}</span>
          ) : null}
        </h1>
      </div>

      <CaptureBanner
        capture={capture}
        now={now}
        consequence="Later changes made there, to this row as well, may not be captured yet."
      />

      <dl
        className={classes(
          "grid grid-cols-1 gap-x-8 gap-y-4 sm:grid-cols-2 lg:grid-cols-3",
          "rounded-lg border border-slate-200 bg-white p-4 text-sm sm:p-6",
        )}
      >
        <Item label="Operation">{change.operation}</Item>
        <Item label="Table">
          <span className="font-mono">
            <Identifier name={`${change.schema}.${change.table}`} />
          </span>
        </Item>
        <Item label="Primary key">
          {change.primaryKey !== null ? (
            <span className="font-mono">{change.primaryKey}</span>
          ) : (
            <span className="text-slate-400">none</span>
          )}
        </Item>
        <Item label="Committed at">
          <span className="font-mono">{exactTime(change.committedAt)}</span>{" "}
          <span className="text-slate-500">
            (<RelativeTime iso={change.committedAt} now={now} />)
          </span>
        </Item>
        <Item label="Transaction ID">
          <span className="font-mono">{change.transactionId}</span>
        </Item>
        <Item label="Commit LSN">
          <span className="font-mono">{change.commitLsn}</span>
        </Item>
        <Item label="Environment">{change.environment}</Item>
        <Item label="Database">
          <span className="font-mono">{change.database}</span>
        </Item>
        <Item label="Stored at">
          <span className="font-mono">{exactTime(change.createdAt)}</span>
        </Item>
      </dl>

      {context ? (
        <section aria-labelledby="context-heading" className="space-y-2">
          <h2 id="context-heading" className="text-lg font-semibold">
            Context
          </h2>
          <pre className="overflow-x-auto rounded-lg border border-slate-200 bg-white p-4 font-mono text-xs">
            {context}
          </pre>
        </section>
      ) : null}

      <section aria-labelledby="diff-heading" className="space-y-2">
        <h2 id="diff-heading" className="text-lg font-semibold">
          {change.operation === "UPDATE"
            ? "Before and after"
            : change.operation === "DELETE"
              ? "Deleted row"
              : change.operation === "CREATE"
                ? "Created row"
                : "Truncate"}
        </h2>
        <DiffTable change={change} />
      </section>

      <TransactionList current={change} changes={transaction} truncated={truncated} />
    </div>
  );
}

function TransactionList({
  current,
  changes,
  truncated,
}: {
  current: ChangeJson;
  changes: ChangeJson[];
  truncated: boolean;
}) {
  const others = changes.filter((c) => c.id !== current.id).length;
  return (
    <section aria-labelledby="transaction-heading" className="space-y-2">
      <h2 id="transaction-heading" className="text-lg font-semibold">
        Transaction {current.transactionId}
      </h2>
      <p className="text-sm text-slate-500">
        {others === 0
          ? "This was the only change in its transaction."
          : `${truncated ? "The first " : ""}${changes.length} changes of this transaction, in commit order.`}
      </p>
      {others > 0 ? (
        <ol className="divide-y divide-slate-100 overflow-hidden rounded-lg border border-slate-200 bg-white">
          {changes.map((c) => {
            const isCurrent = c.id === current.id;
            return (
              <li key={c.id}>
                <Link
                  href={`/changes/${c.id}`}
                  aria-current={isCurrent ? "page" : undefined}
                  className={classes(
                    "flex items-center gap-3 px-4 py-2 text-sm sm:gap-4",
                    isCurrent ? "bg-indigo-50" : "hover:bg-slate-50",
                  )}
                >
                  <OperationBadge operation={c.operation} />
                  <span className="min-w-0 truncate font-mono">
                    {c.schema}.{c.table}
                  </span>
                  <span className="min-w-0 truncate font-mono text-slate-500">{c.primaryKey ?? ""}</span>
                  {isCurrent ? (
                    <span className="ml-auto shrink-0 whitespace-nowrap text-xs text-indigo-700">this change</span>
                  ) : null}
                </Link>
              </li>
            );
          })}
        </ol>
      ) : null}
    </section>
  );
}

function Item({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">{label}</dt>
      <dd className="mt-1 text-slate-900 wrap-anywhere">{children}</dd>
    </div>
  );
}

function BackLink() {
  return (
    <Link href="/changes" className="mt-3 inline-block text-sm text-indigo-700 hover:underline">
      ← All changes
    </Link>
  );
}
