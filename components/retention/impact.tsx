"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import type { RetentionForecastJson } from "@/lib/retention/api-types";
import { keepText, type RetentionRule } from "@/lib/retention/input";
import { retentionQueries } from "@/lib/query/retention";
import { formatBytes, formatCount } from "@/lib/storage/bytes";

const DROPPED = "will be dropped within the hour.";

type Freed = RetentionForecastJson["total"]["now"];

function amount(freed: Freed): string {
  if (freed.partitions === 0) return "nothing";
  const partitions = `${formatCount(freed.partitions)} partition${freed.partitions === 1 ? "" : "s"}`;
  return `${partitions} / ~${formatBytes(freed.bytes)} (${formatCount(freed.rows)} changes)`;
}

/** `value` once it has stayed the same for a moment: a preview per pause in typing, not per keystroke. */
function useSettled<T>(value: T, ms = 400): T {
  const [settled, setSettled] = useState(value);
  const text = JSON.stringify(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(JSON.parse(text) as T), ms);
    return () => clearTimeout(timer);
  }, [text, ms]);
  return settled;
}

/**
 * What the rules in the form mean for the data stored now: what is past its time already (dropped by the worker
 * within the hour), and what will be within 7 and 30 days.
 */
export function RetentionImpact({ rules, changed }: { rules: RetentionRule[]; changed: boolean }) {
  const settled = useSettled(rules);
  const query = useQuery({ ...retentionQueries.preview(settled), placeholderData: keepPreviousData });
  const forecast = query.data;
  return (
    <section
      aria-labelledby="impact-heading"
      aria-busy={query.isFetching}
      className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm sm:p-6"
    >
      <h2 id="impact-heading" className="text-base font-semibold">
        {changed ? "What saving this does to stored changes" : "What these rules do to stored changes"}
      </h2>
      {query.isPending ? (
        <p role="status" className="mt-2 text-sm text-slate-500">
          Measuring the stored partitions…
        </p>
      ) : !forecast ? (
        <p role="alert" className="mt-2 text-sm text-red-700">
          Could not measure what these rules free: {query.error?.message}{" "}
          <button type="button" className="font-medium underline" onClick={() => void query.refetch()}>
            Try again
          </button>
        </p>
      ) : (
        <div className="mt-2 space-y-3 text-sm">
          <p
            data-testid="impact-now"
            className={forecast.total.now.partitions > 0 ? "text-amber-800" : "text-slate-700"}
          >
            {forecast.total.now.partitions > 0
              ? `${amount(forecast.total.now)} ${changed ? "become" : "are"} expired and ${DROPPED}`
              : "Nothing stored is past these rules: nothing is dropped now."}
          </p>
          {rules.some((rule) => rule.archive) ? (
            <p className="text-slate-600">
              Partitions of a rule that archives go once their archive is written (until then they are kept).
            </p>
          ) : null}
          <p className="text-slate-600">
            Within 7 days: {amount(forecast.total.within7Days)}. Within 30 days: {amount(forecast.total.within30Days)}.
          </p>
          {forecast.rules.length > 0 ? (
            <ul className="divide-y divide-slate-100 rounded-md border border-slate-200">
              {forecast.rules.map((rule) => (
                <li
                  key={`${rule.environment} ${rule.table ?? ""}`}
                  className="flex flex-wrap justify-between gap-x-4 px-3 py-2"
                >
                  <span className="min-w-0 wrap-anywhere">
                    <span className="font-medium">{rule.environment}</span>
                    {rule.table ? <span className="font-mono text-slate-700"> · {rule.table}</span> : null}
                    <span className="text-slate-500"> · keep {keepText(rule.days)}</span>
                  </span>
                  <span className="text-slate-600">
                    <span className="whitespace-nowrap">now {formatBytes(rule.now.bytes)}</span> ·{" "}
                    <span className="whitespace-nowrap">in 7 days {formatBytes(rule.within7Days.bytes)}</span> ·{" "}
                    <span className="whitespace-nowrap">in 30 days {formatBytes(rule.within30Days.bytes)}</span>
                  </span>
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      )}
    </section>
  );
}
