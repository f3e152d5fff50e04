"use client";

import Link from "next/link";
import { classes, smallSecondaryButton } from "@/components/ui/classes";
import { CopyButton } from "@/components/ui/copy-button";
import { Identifier } from "@/components/ui/identifier";
import { ApiError } from "@/lib/api/client";
import { toJsonText } from "@/lib/api/json";
import type { ChangeDetailJson, ChangeJson } from "@/lib/changes/api-types";
import { recordHref, recordKeyOf } from "@/lib/changes/history-key";
import { revertHref } from "@/lib/changes/revert/target";
import { useChange } from "./api";
import { CaptureBanner, useCaptureOf } from "./capture-health";
import { ChangeFacts } from "./change-facts";
import { ContextPanel } from "./context-panel";
import { DiffTable } from "./diff-table";
import { useEscapeToList, useListHref } from "./list-return";
import { OperationBadge } from "./operation-badge";
import { useNow } from "./time";
import { TransactionPanel } from "./transaction-panel";
import { readableKey } from "@/lib/changes/key-text";

export function ChangeDetail({ id }: { id: string }) {
  const now = useNow();
  const query = useChange(id);
  useEscapeToList();

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
  return <LoadedChange detail={query.data} now={now} />;
}

const DIFF_HEADINGS = {
  UPDATE: "Before and after",
  DELETE: "Deleted row",
  CREATE: "Created row",
  TRUNCATE: "Truncate",
} as const;

function LoadedChange({ detail, now }: { detail: ChangeDetailJson; now: number }) {
  const { change } = detail;
  const capture = useCaptureOf(change.sourceId);
  const record = recordKeyOf(change);
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
            <span className="min-w-0 font-mono text-slate-500 wrap-anywhere">{readableKey(change.primaryKey)}</span>
          ) : null}
        </h1>
        <div className="mt-3 flex flex-wrap items-center gap-2">
          {record ? (
            <Link
              href={recordHref(record)}
              className="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-700"
            >
              History of this row
            </Link>
          ) : null}
          <ChangeCopyButtons change={change} />
          <Link href={revertHref({ changeId: change.id })} className={smallSecondaryButton}>
            Revert this change
          </Link>
          <Link href={revertHref({ transactionOf: change.id })} className={smallSecondaryButton}>
            Revert transaction
          </Link>
        </div>
      </div>

      <CaptureBanner
        capture={capture}
        now={now}
        consequence="Later changes made there, to this row as well, may not be captured yet."
      />

      <ChangeFacts change={change} now={now} />

      <section aria-labelledby="diff-heading" className="space-y-2">
        <h2 id="diff-heading" className="text-lg font-semibold">
          {DIFF_HEADINGS[change.operation]}
        </h2>
        <DiffTable change={change} />
      </section>

      <ContextPanel context={change.context} />

      <TransactionPanel detail={detail} />
    </div>
  );
}

/** The change exactly as the API gave it (every digit), its primary key, and a link to this page. */
function ChangeCopyButtons({ change }: { change: ChangeJson }) {
  return (
    <>
      <CopyButton label="Copy as JSON" text={() => toJsonText(change, 2)} />
      {change.primaryKey !== null ? (
        <CopyButton
          label="Copy primary key"
          text={() => (change.primaryKey === null ? "" : readableKey(change.primaryKey))}
        />
      ) : null}
      <CopyButton label="Copy link" text={() => `${window.location.origin}/changes/${change.id}`} />
    </>
  );
}

function BackLink() {
  const href = useListHref();
  return (
    <Link href={href} className="mt-3 inline-block text-sm text-indigo-700 hover:underline">
      ← All changes <span className="text-slate-400">(Esc)</span>
    </Link>
  );
}
