"use client";

import Link from "next/link";
import { useState, type ReactNode } from "react";
import { useRouter } from "next/navigation";
import { RelativeTime, useNow } from "@/components/changes/time";
import { classes, smallSecondaryButton } from "@/components/ui/classes";
import { BaselinesNote, TableBaseline, useLatestBaselines } from "@/components/time-travel/baselines-panel";
import { Identifier } from "@/components/ui/identifier";
import { ApiError } from "@/lib/api/client";
import { useDatabase } from "./api";
import { EnvironmentBadge, StatusBadge } from "./badges";
import { CapturePanel } from "./capture-health";
import { DatabaseActions } from "./database-actions";
import { EditConnection } from "./edit-connection";
import { Lag } from "./lag";
import { SlotSection } from "./slot";
import { VerifyPanel } from "./verify-panel";

function Row({ term, children }: { term: string; children: ReactNode }) {
  return (
    <div className="grid grid-cols-[8rem_minmax(0,1fr)] gap-3 px-4 py-2.5 sm:grid-cols-[10rem_minmax(0,1fr)] sm:gap-4">
      <dt className="text-sm text-slate-500">{term}</dt>
      <dd className="text-sm wrap-anywhere">{children}</dd>
    </div>
  );
}

export function DatabaseDetail({ id, canEdit }: { id: string; canEdit: boolean }) {
  const router = useRouter();
  const now = useNow();
  const query = useDatabase(id);
  const baselines = useLatestBaselines(id);
  const [editing, setEditing] = useState(false);

  if (query.isPending) {
    return (
      <div role="status" aria-live="polite" className="space-y-3">
        <span className="sr-only">Loading database…</span>
        <div className="h-8 w-64 animate-pulse rounded bg-slate-200/70" aria-hidden />
        <div className="h-48 animate-pulse rounded-lg bg-slate-200/70" aria-hidden />
      </div>
    );
  }
  if (!query.data) {
    const notFound = query.error instanceof ApiError && query.error.status === 404;
    return (
      <div role="alert" className="rounded-lg border border-red-200 bg-red-50 p-6 text-sm text-red-800">
        <p className="font-medium">
          {notFound ? "This database does not exist (it may have been removed)." : "Could not load this database."}
        </p>
        {notFound ? null : <p className="mt-1">{query.error?.message}</p>}
        <Link href="/databases" className="mt-3 inline-block font-medium underline">
          Back to databases
        </Link>
      </div>
    );
  }

  const { database, tables } = query.data;
  const removed = database.removedAt !== null;
  // Recreated by an archive import (lib/sources/source-lifecycle.ts): no host, never streamed from here.
  const recreated = removed && !database.host;
  return (
    <div className="space-y-6">
      <header className="flex flex-wrap items-start justify-between gap-4">
        <div className="min-w-0">
          <p className="text-sm text-slate-500">
            <Link href="/databases" className="hover:underline">
              Databases
            </Link>
          </p>
          <h1
            className={classes(
              "mt-1 flex flex-wrap items-center gap-x-3 gap-y-1",
              "text-2xl font-semibold tracking-tight wrap-anywhere",
            )}
          >
            {database.name}
            <EnvironmentBadge environment={database.environment} />
          </h1>
        </div>
        {canEdit ? (
          <DatabaseActions
            database={database}
            onRemoved={(result) => {
              if (result.changes === "deleted") router.push("/databases");
            }}
          />
        ) : null}
      </header>

      <CapturePanel database={database} now={now} />
      {removed ? (
        <p className="text-sm">
          <Link
            href={`/changes?sourceId=${encodeURIComponent(database.id)}`}
            className="font-medium text-indigo-700 hover:underline"
          >
            Browse its kept changes
          </Link>
        </p>
      ) : null}

      <section aria-labelledby="connection-heading" className="rounded-lg border border-slate-200 bg-white">
        <div className="flex items-center justify-between gap-4 border-b border-slate-200 px-4 py-3">
          <h2 id="connection-heading" className="text-base font-semibold">
            Connection
          </h2>
          {canEdit && !removed && !editing ? (
            <button type="button" className={smallSecondaryButton} onClick={() => setEditing(true)}>
              Edit connection
            </button>
          ) : null}
        </div>
        {editing && !removed ? (
          <EditConnection database={database} onDone={() => setEditing(false)} />
        ) : (
          <dl className="divide-y divide-slate-100">
            <Row term="Status">
              <StatusBadge state={database.health.state} />
            </Row>
            <Row term="Environment">{database.environment}</Row>
            <Row term="Host">
              {database.host ? (
                <span className="font-mono text-xs">
                  {database.host}:{database.port}
                </span>
              ) : (
                // Recreated by an archive import (lib/sources/source-lifecycle.ts): the archive does not say where.
                <span className="text-slate-500">Not known (recreated from an archive)</span>
              )}
            </Row>
            <Row term="Database">{database.database}</Row>
            <Row term="Username">{database.username || <span className="text-slate-500">Not known</span>}</Row>
            {recreated ? null : (
              <>
                <Row term="SSL mode">
                  {database.sslMode}
                  {database.sslMode === "verify-full"
                    ? database.sslRootCertGiven
                      ? " (against the CA certificate given)"
                      : " (against public CAs)"
                    : ""}
                </Row>
                <Row term="Replication slot">
                  <span className="font-mono text-xs">{database.slotName}</span>
                </Row>
                <Row term="Publication">
                  <span className="font-mono text-xs">{database.publicationName}</span>
                </Row>
              </>
            )}
            <Row term="Checkpoint LSN">
              <span className="font-mono text-xs">{database.checkpointLsn ?? "—"}</span>
            </Row>
            <Row term="Lag">
              <Lag database={database} now={now} />
            </Row>
            <Row term="Last change">
              {database.lastChangeAt ? <RelativeTime iso={database.lastChangeAt} now={now} /> : "—"}
            </Row>
            <Row term="Changes, last 24 h">
              <span className="tabular-nums">{database.changesLast24h.toLocaleString("en-US")}</span>
            </Row>
            <Row term={recreated ? "Recreated from an archive" : "Connected"}>
              <RelativeTime iso={database.createdAt} now={now} />
            </Row>
            {database.removedAt && !recreated ? (
              <Row term="Removed">
                <RelativeTime iso={database.removedAt} now={now} />
              </Row>
            ) : null}
          </dl>
        )}
      </section>

      <SlotSection database={database} now={now} />

      <VerifyPanel id={database.id} seals={query.data.seals} lastChangeAt={database.lastChangeAt} now={now} />

      <section aria-labelledby="tables-heading" className="rounded-lg border border-slate-200 bg-white">
        <div className="flex items-center justify-between border-b border-slate-200 px-4 py-3">
          <h2 id="tables-heading" className="text-base font-semibold">
            Tracked tables ({tables.length})
          </h2>
          {removed ? null : (
            <Link
              href={`/databases/${database.id}/tables`}
              className="text-sm font-medium text-indigo-700 hover:underline"
            >
              {canEdit ? "Edit tables" : "View tables"}
            </Link>
          )}
        </div>
        {tables.length === 0 ? (
          <p className="px-4 py-6 text-sm text-slate-500">
            {removed ? "None: the database was removed." : "No tables are tracked yet, so no changes are captured. "}
            {canEdit && !removed ? (
              <Link href={`/databases/${database.id}/tables`} className="font-medium text-indigo-700 hover:underline">
                Choose tables
              </Link>
            ) : null}
          </p>
        ) : (
          <ul className="divide-y divide-slate-100">
            {tables.map((t) => (
              <li
                key={`${t.schema}.${t.table}`}
                className="flex flex-wrap items-center justify-between gap-x-4 gap-y-2 px-4 py-2 text-sm"
              >
                <span className="min-w-0 font-mono text-xs wrap-anywhere">
                  <Identifier name={`${t.schema}.${t.table}`} />
                </span>
                <span className="text-xs text-slate-500">
                  since <RelativeTime iso={t.createdAt} now={now} />
                </span>
                <TableBaseline
                  sourceId={database.id}
                  database={database.database}
                  name={`${t.schema}.${t.table}`}
                  baseline={baselines.latest.get(`${t.schema}.${t.table}`) ?? null}
                  loading={baselines.loading}
                  canEdit={canEdit}
                  now={now}
                />
              </li>
            ))}
          </ul>
        )}
        {tables.length > 0 ? <BaselinesNote error={baselines.error} /> : null}
      </section>
    </div>
  );
}
