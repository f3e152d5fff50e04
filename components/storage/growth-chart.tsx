"use client";

import { Bar, BarChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { StorageJson } from "@/lib/retention/api-types";
import { formatBytes, formatCount } from "@/lib/storage/bytes";

const dayLabel = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
const label = (day: unknown) => (typeof day === "string" ? dayLabel.format(new Date(`${day}T00:00:00Z`)) : "");

/** Bytes the trail took per UTC day over the last 30 days (changes per day in the tooltip). */
export function GrowthChart({ growth }: { growth: StorageJson["growth"] }) {
  const total = growth.reduce((sum, day) => sum + day.bytes, 0);
  const changes = growth.reduce((sum, day) => sum + day.rows, 0);
  return (
    <figure data-testid="growth-chart" className="space-y-2">
      <figcaption className="text-sm text-slate-600">
        {formatBytes(total)} and {formatCount(changes)} changes in the last 30 days (UTC days).
      </figcaption>
      <div className="h-48 w-full">
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={growth} margin={{ top: 8, right: 8, bottom: 0, left: 8 }} barCategoryGap={1}>
            <XAxis
              dataKey="day"
              tickFormatter={label}
              tick={{ fontSize: 11, fill: "#64748b" }}
              minTickGap={24}
              tickLine={false}
            />
            <YAxis
              tickFormatter={(bytes: number) => formatBytes(bytes)}
              tick={{ fontSize: 11, fill: "#64748b" }}
              width={72}
              tickLine={false}
              axisLine={false}
            />
            <Tooltip
              labelFormatter={label}
              formatter={(value, _name, item) => {
                const rows = (item.payload as { rows?: number } | undefined)?.rows ?? 0;
                return [`${formatBytes(Number(value))} (${formatCount(rows)} changes)`, "Stored"];
              }}
              cursor={{ fill: "#e0e7ff", opacity: 0.5 }}
              isAnimationActive={false}
            />
            <Bar dataKey="bytes" name="Stored" fill="#6366f1" isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </div>
    </figure>
  );
}
