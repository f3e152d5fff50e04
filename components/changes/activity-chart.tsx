"use client";

import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Bar, BarChart, ReferenceArea, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { MouseHandlerDataParam } from "recharts";
import type { ActivityBucketJson } from "@/lib/changes/browse-types";
import { OPERATIONS, type FilterValues } from "@/lib/changes/filters";
import { changeQueries } from "@/lib/query/changes";
import { OPERATION_LABELS } from "./operation-badge";

/** The operation badges' colours (operation-badge.tsx), a shade deeper for bars. */
const COLORS = { CREATE: "#10b981", UPDATE: "#0ea5e9", DELETE: "#ef4444", TRUNCATE: "#a855f7" } as const;

const timeOfDay = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayAndTime = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
});

type Selection = { anchor: number; current: number };

function indexOf(state: MouseHandlerDataParam): number | null {
  const index = Number(state.activeTooltipIndex);
  return Number.isInteger(index) && index >= 0 ? index : null;
}

/**
 * Changes over the selected range (the last day without a time filter) by operation, stacked. Dragging across
 * bars narrows the time filter to them (a click on one bar: that bar's span).
 */
export function ActivityChart({
  filters,
  onSelectRange,
}: {
  filters: FilterValues;
  onSelectRange: (range: { from: string; to: string }) => void;
}) {
  const query = useQuery(changeQueries.activity(filters));
  const [selection, setSelection] = useState<Selection | null>(null);

  if (query.isError) {
    return (
      <p role="alert" className="rounded-lg border border-amber-200 bg-amber-50 px-4 py-2 text-xs text-amber-900">
        Activity chart unavailable: {query.error.message}
      </p>
    );
  }
  const activity = query.data;
  const buckets = activity?.buckets ?? [];
  const total = buckets.reduce((sum, bucket) => sum + OPERATIONS.reduce((n, o) => n + bucket[o], 0), 0);
  const spanDays = activity ? (Date.parse(activity.to) - Date.parse(activity.from)) / 86_400_000 : 0;
  // Ticks of a day or less are times; the range itself always says the day (the last day starts yesterday).
  const format = (iso: string) => (spanDays > 1 ? dayAndTime : timeOfDay).format(new Date(iso));
  const formatRange = (from: string, to: string) => {
    const [start, end] = [new Date(from), new Date(to)];
    const sameDay = start.toDateString() === end.toDateString();
    return `${dayAndTime.format(start)} – ${(sameDay ? timeOfDay : dayAndTime).format(end)}`;
  };

  const finish = () => {
    if (!selection || !activity) return setSelection(null);
    const first = buckets[Math.min(selection.anchor, selection.current)];
    const last = buckets[Math.max(selection.anchor, selection.current)];
    setSelection(null);
    if (!first || !last) return;
    const end = new Date(Date.parse(last.start) + activity.bucketSeconds * 1000).toISOString();
    onSelectRange({ from: first.start, to: end });
  };

  const low = selection ? buckets[Math.min(selection.anchor, selection.current)] : undefined;
  const high = selection ? buckets[Math.max(selection.anchor, selection.current)] : undefined;
  return (
    <section
      aria-label="Activity"
      data-testid="activity-chart"
      className="rounded-lg border border-slate-200 bg-white px-2 pb-1 pt-3 select-none"
    >
      <div className="flex flex-wrap items-baseline justify-between gap-x-4 px-2 text-xs text-slate-500">
        <span>
          <span className="font-medium text-slate-700">Activity</span>{" "}
          {activity ? `${total.toLocaleString()} changes, ${formatRange(activity.from, activity.to)}` : "…"}
        </span>
        <span className="hidden sm:inline">Drag across bars to narrow the time range</span>
      </div>
      <div className="h-36 w-full" aria-busy={query.isPending}>
        {activity ? (
          <ResponsiveContainer width="100%" height="100%">
            <BarChart
              data={buckets}
              margin={{ top: 8, right: 8, bottom: 0, left: -16 }}
              barCategoryGap={1}
              onMouseDown={(state) => {
                const index = indexOf(state);
                if (index !== null) setSelection({ anchor: index, current: index });
              }}
              onMouseMove={(state) => {
                const index = indexOf(state);
                if (selection && index !== null) setSelection({ ...selection, current: index });
              }}
              onMouseUp={finish}
              onMouseLeave={() => setSelection(null)}
            >
              <XAxis
                dataKey="start"
                tickFormatter={format}
                tick={{ fontSize: 11, fill: "#64748b" }}
                minTickGap={24}
                tickLine={false}
              />
              <YAxis allowDecimals={false} tick={{ fontSize: 11, fill: "#64748b" }} tickLine={false} axisLine={false} />
              <Tooltip
                labelFormatter={(label) => (typeof label === "string" ? dayAndTime.format(new Date(label)) : "")}
                cursor={{ fill: "#e0e7ff", opacity: 0.5 }}
                isAnimationActive={false}
              />
              {OPERATIONS.map((operation) => (
                <Bar
                  key={operation}
                  dataKey={(bucket: ActivityBucketJson) => bucket[operation]}
                  name={OPERATION_LABELS[operation]}
                  stackId="operations"
                  fill={COLORS[operation]}
                  isAnimationActive={false}
                />
              ))}
              {low && high ? <ReferenceArea x1={low.start} x2={high.start} fill="#6366f1" fillOpacity={0.15} /> : null}
            </BarChart>
          </ResponsiveContainer>
        ) : null}
      </div>
    </section>
  );
}
