"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRef } from "react";
import { CopyBlock } from "@/components/databases/copy-block";
import { classes, smallSecondaryButton } from "@/components/ui/classes";
import { Identifier } from "@/components/ui/identifier";
import { ApiError, apiFetch } from "@/lib/api/client";
import type { RevertConflictJson, RevertResultJson, RevertTargetJson } from "@/lib/changes/revert/api-types";
import { revertHref } from "@/lib/changes/revert/target";
import { revertBody, revertQueries } from "@/lib/query/reverts";
import { queryKeys } from "@/lib/query/keys";

const dangerButton = classes(
  "rounded-md bg-red-600 px-4 py-2",
  "text-sm font-medium text-white hover:bg-red-700 disabled:opacity-60",
);

/** The revert of a target: its SQL (copyable), its conflicts, and for admins Execute behind a confirmation. */
export function RevertView({ target, canExecute }: { target: RevertTargetJson; canExecute: boolean }) {
  const query = useQuery(revertQueries.plan(target));
  if (query.isPending) {
    return (
      <div className="space-y-4">
        <Heading />
        <div aria-busy="true" aria-label="Checking the rows and writing the revert SQL" className="space-y-3">
          <div className="h-6 w-2/3 animate-pulse rounded bg-slate-100" />
          <div className="h-40 animate-pulse rounded-lg bg-slate-100" />
        </div>
      </div>
    );
  }
  if (query.isError) {
    return (
      <div className="space-y-4">
        <Heading />
        <div role="alert" className="rounded-lg border border-red-200 bg-red-50 p-4 text-sm text-red-800">
          <p className="font-medium">Could not plan this revert</p>
          <p className="mt-1 wrap-anywhere">{query.error.message}</p>
          <SourceChoices error={query.error} target={target} />
          <button type="button" className={`${smallSecondaryButton} mt-3`} onClick={() => void query.refetch()}>
            Try again
          </button>
        </div>
      </div>
    );
  }
  return (
    <LoadedRevert
      plan={query.data}
      target={target}
      canExecute={canExecute}
      refetching={query.isFetching}
      recheck={() => void query.refetch()}
    />
  );
}

function Heading({ description }: { description?: string }) {
  return (
    <div>
      <Link href="/changes" className="text-sm text-indigo-700 hover:underline">
        ← All changes
      </Link>
      <h1 className="mt-3 text-xl font-semibold tracking-tight wrap-anywhere sm:text-2xl">
        Revert{description ? ` ${description}` : ""}
      </h1>
    </div>
  );
}

function LoadedRevert(props: {
  plan: RevertResultJson;
  target: RevertTargetJson;
  canExecute: boolean;
  refetching: boolean;
  recheck: () => void;
}) {
  const { plan, target, canExecute } = props;
  const queryClient = useQueryClient();
  const dialog = useRef<HTMLDialogElement>(null);
  const execute = useMutation({
    mutationFn: () => apiFetch<RevertResultJson>("/api/reverts", { method: "POST", body: revertBody(target, true) }),
    onSuccess: () => {
      dialog.current?.close();
      // The trail gains the revert's changes; the rows are now as before: every plan is stale.
      void queryClient.invalidateQueries({ queryKey: queryKeys.changes.all });
      void queryClient.invalidateQueries({ queryKey: queryKeys.records.all });
    },
  });
  const refused = refusedConflicts(execute.error);
  const conflicts = refused ?? plan.conflicts;
  const statementCount = plan.statements.filter((s) => !s.sql.startsWith("--")).length;
  const done = execute.data?.executed;

  return (
    <div className="space-y-6">
      <Heading description={plan.description} />
      <p className="text-sm text-slate-600">
        {plan.changeCount} change{plan.changeCount === 1 ? "" : "s"} in{" "}
        <span className="font-medium">{plan.database}</span>, undone newest first by {statementCount} statement
        {statementCount === 1 ? "" : "s"} in one transaction. The revert&apos;s own changes carry the context{" "}
        <code className="font-mono text-xs wrap-anywhere">{plan.context}</code> so they appear in the trail, labelled.
      </p>

      {done ? (
        <div role="status" className="rounded-lg border border-emerald-200 bg-emerald-50 p-4 text-sm text-emerald-900">
          <p className="font-medium">Reverted</p>
          <p className="mt-1">
            {done.statements} statement{done.statements === 1 ? "" : "s"} ran and changed {done.rows} row
            {done.rows === 1 ? "" : "s"} at the source, in one transaction.{" "}
            <Link
              className="text-indigo-700 underline"
              href={`/changes?context=${encodeURIComponent('{"retrace":"revert"}')}`}
            >
              See the reverts in the trail
            </Link>
            .
          </p>
        </div>
      ) : null}

      <ConflictList conflicts={conflicts} refusedNow={refused !== null} />

      <section aria-labelledby="sql-heading" className="space-y-2">
        <div className="flex flex-wrap items-center gap-2">
          <h2 id="sql-heading" className="mr-auto text-lg font-semibold">
            SQL
          </h2>
          <button type="button" className={smallSecondaryButton} disabled={props.refetching} onClick={props.recheck}>
            {props.refetching ? "Checking…" : "Check again"}
          </button>
        </div>
        <CopyBlock text={plan.sql} />
      </section>

      {canExecute ? (
        <section aria-labelledby="execute-heading" className="space-y-2">
          <h2 id="execute-heading" className="text-lg font-semibold">
            Execute
          </h2>
          {conflicts.length > 0 ? (
            <p className="text-sm text-slate-600">
              Retrace will not run a revert with conflicts. Resolve them (or revert the later changes too), then check
              again; or edit the SQL and run it yourself.
            </p>
          ) : statementCount === 0 ? (
            <p className="text-sm text-slate-600">There is nothing to run.</p>
          ) : (
            <p className="text-sm text-slate-600">
              Runs the SQL above against {plan.database} in one transaction, after locking and checking each row again.
            </p>
          )}
          <button
            type="button"
            className={dangerButton}
            disabled={conflicts.length > 0 || statementCount === 0 || done !== undefined}
            onClick={() => {
              execute.reset();
              dialog.current?.showModal();
            }}
          >
            Execute revert…
          </button>
        </section>
      ) : (
        <p className="rounded-md border border-slate-200 bg-slate-50 px-3 py-2 text-sm text-slate-600">
          Only admins can execute a revert from Retrace. Copy the SQL to run it yourself, or ask an admin.
        </p>
      )}

      <dialog
        ref={dialog}
        aria-labelledby="confirm-revert-title"
        className={classes(
          "m-auto w-[calc(100%-2rem)] max-w-3xl rounded-lg border border-slate-200 p-4 shadow-xl sm:p-6",
          "backdrop:bg-slate-900/40",
        )}
      >
        <h2 id="confirm-revert-title" className="text-lg font-semibold">
          Run this revert against {plan.database}?
        </h2>
        <p className="mt-2 text-sm text-slate-600">
          This writes to your database: {statementCount} statement{statementCount === 1 ? "" : "s"}, in one transaction.
          If any row changed since it was checked, nothing is written.
        </p>
        <div className="max-h-[50vh] overflow-y-auto">
          <CopyBlock text={plan.sql} />
        </div>
        {execute.error && refused === null ? (
          <p role="alert" className="mt-4 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
            {execute.error.message}
          </p>
        ) : null}
        {refused !== null ? (
          <p role="alert" className="mt-4 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
            Not run: rows changed since the check. Nothing was written; the conflicts are listed on the page.
          </p>
        ) : null}
        <div className="mt-6 flex flex-wrap justify-end gap-2">
          {/* Cancel has the focus: Enter must not write to a database by accident. */}
          <button type="button" autoFocus className={smallSecondaryButton} onClick={() => dialog.current?.close()}>
            Cancel
          </button>
          <button
            type="button"
            className={dangerButton}
            disabled={execute.isPending || refused !== null}
            onClick={() => execute.mutate()}
          >
            {execute.isPending ? "Running…" : "Run revert"}
          </button>
        </div>
      </dialog>
    </div>
  );
}

/** A context found in several databases: one link per database, each reverting only that database's changes. */
function SourceChoices({ error, target }: { error: Error; target: RevertTargetJson }) {
  const details = error instanceof ApiError ? (error.details as { sources?: unknown } | undefined) : undefined;
  const sources = Array.isArray(details?.sources) ? (details.sources as { sourceId: string; database: string }[]) : [];
  if (!("context" in target) || sources.length === 0) return null;
  return (
    <ul className="mt-2 space-y-1">
      {sources.map((source) => (
        <li key={source.sourceId}>
          <Link
            className="text-indigo-700 underline"
            href={revertHref({ context: target.context, sourceId: source.sourceId })}
          >
            Revert only the changes in {source.database}
          </Link>
        </li>
      ))}
    </ul>
  );
}

/** The conflicts a refused execution (409) found under lock; null for any other outcome. */
function refusedConflicts(error: Error | null): RevertConflictJson[] | null {
  if (!(error instanceof ApiError) || error.status !== 409) return null;
  const details = error.details as { conflicts?: RevertConflictJson[] } | undefined;
  return Array.isArray(details?.conflicts) ? details.conflicts : null;
}

const REASON_LABELS: Record<RevertConflictJson["reason"], string> = {
  truncate: "TRUNCATE",
  no_primary_key: "No primary key",
  table_missing: "Table gone",
  incomplete_image: "Incomplete image",
  masked: "Masked value",
  changed_again: "Changed again",
  row_gone: "Row gone",
  row_differs: "Row differs",
  row_exists: "Row back",
};

function ConflictList({ conflicts, refusedNow }: { conflicts: RevertConflictJson[]; refusedNow: boolean }) {
  if (conflicts.length === 0) {
    return (
      <p className="rounded-md border border-emerald-200 bg-emerald-50 px-3 py-2 text-sm text-emerald-900">
        No conflicts: no later change touches these rows, and each row at the source is as these changes left it.
      </p>
    );
  }
  return (
    <section aria-labelledby="conflicts-heading" className="space-y-2">
      <h2 id="conflicts-heading" className="text-lg font-semibold text-red-800">
        {conflicts.length} conflict{conflicts.length === 1 ? "" : "s"}
        {refusedNow ? " found when executing" : ""}
      </h2>
      <ul role="list" className="divide-y divide-slate-100 rounded-lg border border-red-200 bg-white text-sm">
        {conflicts.map((conflict, index) => (
          <li key={`${conflict.changeId}-${conflict.reason}-${index}`} className="space-y-1 px-4 py-3">
            <div className="flex flex-wrap items-center gap-x-3 gap-y-1">
              <span className="rounded bg-red-100 px-1.5 py-0.5 text-xs font-medium text-red-800">
                {REASON_LABELS[conflict.reason]}
              </span>
              <span className="min-w-0 font-mono wrap-anywhere">
                <Identifier name={`${conflict.schema}.${conflict.table}`} />
              </span>
              {conflict.primaryKey !== null ? (
                <span className="min-w-0 font-mono text-slate-500 wrap-anywhere">{conflict.primaryKey}</span>
              ) : null}
              <Link href={`/changes/${conflict.changeId}`} className="text-indigo-700 hover:underline">
                change {conflict.changeId}
              </Link>
            </div>
            <p className="text-slate-700">{conflict.message}</p>
          </li>
        ))}
      </ul>
    </section>
  );
}
