"use client";

import { useInfiniteQuery } from "@tanstack/react-query";
import Link from "next/link";
import { CaptureBanner, useCaptureOf } from "@/components/changes/capture-health";
import { DatabaseNames } from "@/components/changes/database-name";
import { useListHref } from "@/components/changes/list-return";
import { useNow } from "@/components/changes/time";
import { classes, secondaryButton } from "@/components/ui/classes";
import { CopyButton } from "@/components/ui/copy-button";
import { Identifier } from "@/components/ui/identifier";
import { LoadMore } from "@/components/ui/load-more";
import { ApiError } from "@/lib/api/client";
import type { ChangeJson } from "@/lib/changes/api-types";
import type { RecordKey } from "@/lib/changes/history-key";
import { recordQueries } from "@/lib/query/records";
import { RecordAsOf } from "@/components/time-travel/record-as-of";
import { HistoryStep } from "./history-step";
import { readableKey } from "@/lib/changes/key-text";

/** Every change of one row as a timeline, newest first, each step the diff from the one before. */
export function RecordHistory({ recordKey }: { recordKey: RecordKey }) {
  const now = useNow();
  const query = useInfiniteQuery(recordQueries.history(recordKey));
  const changes = query.data?.pages.flatMap((page) => page.changes) ?? [];
  return (
    <div className="space-y-6">
      <RecordHeader
        recordKey={recordKey}
        names={changes.every((c) => c.sourceId === changes[0]?.sourceId) ? changes[0] : undefined}
      />
      {recordKey.sourceId ? <SourceCapture sourceId={recordKey.sourceId} now={now} /> : null}
      <RecordAsOf recordKey={recordKey} />
      {query.isPending ? (
        <div aria-busy="true" aria-label="Loading history" className="h-64 animate-pulse rounded-lg bg-slate-100" />
      ) : query.isError && changes.length === 0 ? (
        <div role="alert" className="rounded-lg border border-slate-200 bg-white p-8 text-center">
          <p className="font-medium">Could not load this row&apos;s history</p>
          <p className="mt-1 text-sm text-slate-500">
            {query.error instanceof ApiError ? query.error.message : "The server could not be reached."}
          </p>
          <button type="button" onClick={() => void query.refetch()} className={`${secondaryButton} mt-4`}>
            Try again
          </button>
        </div>
      ) : changes.length === 0 ? (
        <div className="rounded-lg border border-slate-200 bg-white p-8 text-center">
          <p className="font-medium">No changes of this row were captured</p>
          <p className="mt-1 text-sm text-slate-500">
            Check the table and the primary key (a composite key is written as its JSON array, as the change shows it).
            Changes made before the table was tracked are not in the trail.
          </p>
        </div>
      ) : (
        <>
          <p className="text-sm text-slate-500" data-testid="history-summary">
            {query.hasNextPage
              ? `The newest ${changes.length} changes of this row.`
              : `${changes.length} change${changes.length === 1 ? "" : "s"} of this row, newest first.`}
          </p>
          <ol className="space-y-8 sm:space-y-6 sm:border-l-2 sm:border-slate-200 sm:pl-6" data-testid="history">
            {changes.map((change, index) => (
              <HistoryStep key={change.id} change={change} previous={changes[index + 1]} now={now} />
            ))}
          </ol>
          <LoadMore
            query={query}
            label="Load older"
            failed="older changes"
            end={<p className="text-sm text-slate-500">That is the oldest change captured of this row.</p>}
          />
        </>
      )}
    </div>
  );
}

/**
 * `names`: the newest change's, when every change shown is of one source: what the user calls the database (the URL
 * has only the server's name).
 */
function RecordHeader({ recordKey, names }: { recordKey: RecordKey; names: ChangeJson | undefined }) {
  const listHref = useListHref();
  return (
    <div>
      <Link href={listHref} className="text-sm text-indigo-700 hover:underline">
        ← All changes
      </Link>
      <h1
        className={classes(
          "mt-3 flex flex-wrap items-baseline gap-x-3 gap-y-1",
          "text-xl font-semibold tracking-tight sm:text-2xl",
        )}
      >
        <span>History of</span>
        <span className="min-w-0 font-mono wrap-anywhere">
          <Identifier name={recordKey.table} />
        </span>
        <span className="min-w-0 font-mono text-slate-500 wrap-anywhere">{readableKey(recordKey.primaryKey)}</span>
      </h1>
      <div className="mt-2 flex flex-wrap items-center gap-x-4 gap-y-2 text-sm text-slate-500">
        {names ? (
          <span data-testid="history-database" className="text-slate-700">
            <span className="text-slate-500">Database</span> <DatabaseNames names={names} />
          </span>
        ) : recordKey.database ? (
          <span>
            Database <span className="font-mono text-slate-700">{recordKey.database}</span>
          </span>
        ) : null}
        <CopyButton label="Copy primary key" text={() => readableKey(recordKey.primaryKey)} />
        <CopyButton label="Copy link" text={() => window.location.href} />
      </div>
    </div>
  );
}

function SourceCapture({ sourceId, now }: { sourceId: string; now: number }) {
  const capture = useCaptureOf(sourceId);
  return (
    <CaptureBanner capture={capture} now={now} consequence="The newest changes of this row may not be here yet." />
  );
}
