import { exactTime, relativeTime } from "@/components/changes/time";
import type { DatabaseJson } from "@/lib/sources/api-types";

// A measurement older than a few heartbeats (30 s each) means no worker is measuring it now.
const STALE_AFTER_MS = 2 * 60_000;

export function formatBytes(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 || value >= 10 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

export function formatSeconds(seconds: number): string {
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 2 * 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 2 * 86_400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${Math.round(seconds / 86_400)} d`;
}

/**
 * "0 B · 0.2 s": WAL the slot holds past its confirmed position, and how far the trail is behind
 * (left out while that is not known yet: behind with nothing stored to measure from).
 */
export function Lag({ database, now }: { database: DatabaseJson; now: number }) {
  const { lagBytes, lagSeconds, lagMeasuredAt, status } = database;
  if (lagBytes === null || lagMeasuredAt === null || status === "paused")
    return <span className="text-slate-400">—</span>;
  const stale = now - new Date(lagMeasuredAt.replace(/(\.\d{3})\d+/, "$1")).getTime() > STALE_AFTER_MS;
  const text = lagSeconds === null ? formatBytes(lagBytes) : `${formatBytes(lagBytes)} · ${formatSeconds(lagSeconds)}`;
  const unknownSeconds = lagSeconds === null ? "; how far behind in time is not known yet" : "";
  return (
    <span
      // Relative to now: the server's clock renders it, the browser's hydrates it (as RelativeTime).
      suppressHydrationWarning
      className={`whitespace-nowrap tabular-nums ${stale ? "text-slate-400" : ""}`}
      title={
        `Measured ${relativeTime(lagMeasuredAt, now)} (${exactTime(lagMeasuredAt)})` +
        `${stale ? ": no worker is measuring it now" : ""}${unknownSeconds}`
      }
    >
      {text}
    </span>
  );
}
