"use client";

import Link from "next/link";
import { useState, type ReactNode } from "react";
import { useStorage } from "@/components/retention/api";
import { EmptyState, ListError, ListLoading } from "@/components/team/states";
import { smallSecondaryButton } from "@/components/ui/classes";
import type { StorageJson } from "@/lib/retention/api-types";
import type { Ahead } from "@/lib/storage/report";
import { environmentRows } from "@/lib/storage/totals";
import { keepText } from "@/lib/retention/input";
import { formatBytes, formatCount } from "@/lib/storage/bytes";
import { GrowthChart } from "./growth-chart";
import { SizeTable } from "./size-table";

const TABLES_SHOWN = 15;

function partitionsText(partitions: number): string {
  if (partitions === 0) return "";
  return ` in ${formatCount(partitions)} partition${partitions === 1 ? "" : "s"}`;
}

/** "incl. 96 kB empty": the partitions made ahead, still empty, a size holds; nothing when there are none. */
function aheadText(ahead: Ahead): string | undefined {
  return ahead.partitions > 0 ? `incl. ${formatBytes(ahead.bytes)} empty` : undefined;
}

/**
 * What the environment's and database's sizes are, said above them. The default partition (changes that had no
 * partition of their own yet; on disk even when empty) is no environment's or database's: the rows add up to the
 * trail with it.
 */
function onDiskLead(trail: StorageJson["trail"]): string {
  const { empty, unpartitioned } = trail;
  const ahead =
    empty.partitions > 0
      ? `, including ${formatCount(empty.partitions)} partition${empty.partitions === 1 ? "" : "s"} made ahead ` +
        `and still empty (${formatBytes(empty.bytes)})`
      : "";
  const total =
    unpartitioned.bytes > 0
      ? `With the default partition (${formatBytes(unpartitioned.bytes)}, for changes that had no partition yet), ` +
        "they add up to the trail."
      : "They add up to the trail.";
  return `Bytes on disk of their partitions${ahead}. ${total}`;
}

/** What the tables' sizes are and why they add up to less than the trail. */
function tablesLead(report: StorageJson, tablesBytes: number): string {
  const { trail } = report;
  const gap =
    trail.empty.partitions > 0
      ? ` They add up to ${formatBytes(tablesBytes)}, not the trail's ${formatBytes(trail.bytes)}: the ` +
        `${formatBytes(trail.empty.bytes)} of partitions made ahead and still empty is no table's yet.`
      : "";
  return `Estimates: each table's changes in a partition × the partition's average bytes per change.${gap}`;
}

type SectionProps = { title: string; children: ReactNode; lead?: string; note?: ReactNode };

/** `lead`: what the numbers below are, in body text; `note`: small print. */
function Section({ title, children, lead, note }: SectionProps) {
  return (
    <section className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm sm:p-6">
      <h2 className="text-base font-semibold">{title}</h2>
      {lead ? <p className="mt-1 text-sm text-slate-600">{lead}</p> : null}
      {note ? <p className="mt-1 text-xs text-slate-500">{note}</p> : null}
      <div className="mt-3">{children}</div>
    </section>
  );
}

function Figure({ label, value, detail }: { label: string; value: string; detail: string }) {
  return (
    <div className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
      <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">{label}</dt>
      <dd className="mt-1 text-2xl font-semibold tabular-nums">{value}</dd>
      <dd className="mt-0.5 text-xs text-slate-500">{detail}</dd>
    </div>
  );
}

/** The Storage page: loading, error and empty states, then the report. */
export function StorageView() {
  const query = useStorage();
  if (query.isPending) return <ListLoading label="Measuring the trail…" />;
  if (!query.data) {
    return <ListError what="the storage figures" message={query.error?.message} retry={() => void query.refetch()} />;
  }
  if (query.data.trail.rows === 0 && query.data.trail.partitions === 0) {
    return (
      <EmptyState title="No changes stored yet">
        Once a connected database changes, the trail&apos;s size shows here per environment, database and table.
      </EmptyState>
    );
  }
  return <StorageReportView report={query.data} />;
}

function StorageReportView({ report }: { report: StorageJson }) {
  const [allTables, setAllTables] = useState(false);
  const { trail, retention } = report;
  const tables = allTables ? report.tables : report.tables.slice(0, TABLES_SHOWN);
  const estimatedNote = "~ marks an estimate: a share, by count, of the changes outside Retrace's partitions.";
  const tablesBytes = report.tables.reduce((sum, t) => sum + t.estimatedBytes, 0);
  const trailTotal = {
    name: "The trail",
    bytes: trail.bytes,
    rows: trail.rows,
    estimated: false,
    detail: aheadText(trail.empty),
  };
  return (
    <div className="space-y-6">
      <dl className="grid gap-3 sm:grid-cols-3">
        <Figure
          label="Trail"
          value={formatBytes(trail.bytes)}
          detail={`${formatCount(trail.rows)} changes${partitionsText(trail.partitions)}`}
        />
        <Figure
          label="Retention frees"
          value={formatBytes(retention.total.within30Days.bytes)}
          detail={`within 30 days; ${formatBytes(retention.total.now.bytes)} now`}
        />
        <Figure
          label="Store database"
          value={formatBytes(report.database.bytes)}
          detail="the trail, seals, summaries and settings"
        />
      </dl>

      <Section title="Growth per day">
        <GrowthChart growth={report.growth} />
      </Section>

      <div className="grid gap-6 lg:grid-cols-2">
        <Section
          title="By environment"
          lead={onDiskLead(trail)}
          note={report.environments.some((e) => e.estimated) ? estimatedNote : undefined}
        >
          <SizeTable
            label="Size by environment"
            nameHeader="Environment"
            sizeHeader="On disk"
            rows={environmentRows(report).map((e) => ({
              ...e,
              key: e.deleted ? "" : e.name,
              name: e.deleted ? <span className="text-slate-500">{e.name}</span> : e.name,
              detail: aheadText(e.ahead),
            }))}
            total={trailTotal}
          />
        </Section>
        <Section
          title="By database"
          lead={onDiskLead(trail)}
          note={report.databases.some((d) => d.estimated) ? estimatedNote : undefined}
        >
          <SizeTable
            label="Size by database"
            nameHeader="Database"
            sizeHeader="On disk"
            rows={report.databases.map((d) => ({
              key: d.sourceId,
              name: (
                <>
                  <span className="font-medium">{d.name}</span>{" "}
                  <span className="text-slate-500">
                    {d.environment}
                    {d.removed ? " · removed" : ""}
                  </span>
                </>
              ),
              bytes: d.bytes,
              rows: d.rows,
              estimated: d.estimated,
              detail: aheadText(d.ahead),
            }))}
            total={trailTotal}
          />
        </Section>
      </div>

      <Section title="By table (estimated)" lead={tablesLead(report, tablesBytes)}>
        <SizeTable
          label="Size by table"
          nameHeader="Table"
          sizeHeader="Estimate"
          rows={tables.map((t) => ({
            key: `${t.sourceId} ${t.table}`,
            name: (
              <>
                <span className="font-mono">{t.table}</span>{" "}
                <span className="block text-slate-500 sm:inline">
                  {t.database} · {t.environment}
                </span>
              </>
            ),
            bytes: t.estimatedBytes,
            rows: t.rows,
            estimated: true,
          }))}
          total={{
            name: report.tables.length === 1 ? "The table" : `All ${formatCount(report.tables.length)} tables`,
            bytes: tablesBytes,
            rows: report.tables.reduce((sum, t) => sum + t.rows, 0),
            estimated: true,
          }}
        />
        {report.tables.length > TABLES_SHOWN ? (
          <button type="button" className={`mt-3 ${smallSecondaryButton}`} onClick={() => setAllTables(!allTables)}>
            {allTables ? "Show the biggest only" : `Show all ${report.tables.length} tables`}
          </button>
        ) : null}
      </Section>

      <Section
        title="What retention frees"
        note={
          <>
            Of the partitions stored now. Expired partitions are dropped by the worker within the hour.{" "}
            <Link href="/settings/retention" className="font-medium text-indigo-700 hover:underline">
              Retention settings
            </Link>
          </>
        }
      >
        {retention.rules.length === 0 ? (
          <p className="text-sm text-slate-600">No retention rules: every change is kept forever.</p>
        ) : (
          <RetentionTable retention={retention} />
        )}
      </Section>

      <Section title="Besides the trail" note="Tables the store keeps for the trail, and everything else in it.">
        <ul className="divide-y divide-slate-100 text-sm">
          {trail.empty.partitions > 0 ? (
            <li className="flex justify-between gap-3 py-2">
              <span>
                {formatCount(trail.empty.partitions)} partition{trail.empty.partitions === 1 ? "" : "s"} made ahead,
                still empty (in the trail&apos;s total)
              </span>
              <span className="whitespace-nowrap tabular-nums">{formatBytes(trail.empty.bytes)}</span>
            </li>
          ) : null}
          {trail.unpartitioned.bytes > 0 ? (
            <li className="flex justify-between gap-3 py-2">
              <span>
                The default partition: {formatCount(trail.unpartitioned.rows)} changes that had no partition yet (in the
                trail&apos;s total)
              </span>
              <span className="whitespace-nowrap tabular-nums">{formatBytes(trail.unpartitioned.bytes)}</span>
            </li>
          ) : null}
          {report.overhead.map((group) => (
            <li key={group.name} className="flex justify-between gap-3 py-2">
              <span className="min-w-0 wrap-anywhere">
                {group.name}
                {group.tables.length > 0 ? <span className="text-slate-500"> ({group.tables.join(", ")})</span> : null}
              </span>
              <span className="whitespace-nowrap tabular-nums">{formatBytes(group.bytes)}</span>
            </li>
          ))}
        </ul>
      </Section>
      <p className="text-xs text-slate-500">
        Measured {new Date(report.measuredAt).toLocaleString()}. Sizes are on disk (tables, indexes and TOAST).
      </p>
    </div>
  );
}

function RetentionTable({ retention }: { retention: StorageJson["retention"] }) {
  const cell = "py-2 pl-3 text-right align-top tabular-nums";
  return (
    <table aria-label="What retention frees" className="w-full table-fixed text-sm">
      <thead className="text-left text-xs font-medium uppercase tracking-wide text-slate-500">
        <tr>
          <th scope="col" className="py-2">
            Rule
          </th>
          <th scope="col" className="w-20 py-2 text-right sm:w-28">
            Now
          </th>
          <th scope="col" className="w-20 py-2 text-right sm:w-28">
            7 days
          </th>
          <th scope="col" className="w-20 py-2 text-right sm:w-28">
            30 days
          </th>
        </tr>
      </thead>
      <tbody className="divide-y divide-slate-100">
        {retention.rules.map((rule) => (
          <tr key={`${rule.environment} ${rule.table ?? ""}`}>
            <td className="py-2 align-top wrap-anywhere">
              <span className="font-medium">{rule.environment}</span>
              {rule.table ? <span className="font-mono"> · {rule.table}</span> : null}
              <span className="block text-xs text-slate-500">
                keep {keepText(rule.days)}
                {rule.archive ? ", archived first" : ""}
              </span>
            </td>
            <td className={cell}>{formatBytes(rule.now.bytes)}</td>
            <td className={cell}>{formatBytes(rule.within7Days.bytes)}</td>
            <td className={cell}>{formatBytes(rule.within30Days.bytes)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
