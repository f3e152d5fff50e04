import { exactTime, relativeTime, RelativeTime } from "@/components/changes/time";
import { formatBytes, formatSeconds } from "@/lib/sources/lag";
import type { DatabaseJson } from "@/lib/sources/api-types";

// A measurement older than a few heartbeats (30 s each): no worker has measured it lately.
const STALE_AFTER_MS = 2 * 60_000;

const NOT_MEASURED: Record<DatabaseJson["health"]["state"], string> = {
  live: "not measured yet",
  starting: "not measured while capture starts",
  lagging: "not measured now",
  failing: "not measured while capture fails",
  paused: "not measured while capture is paused",
  no_worker: "not measured while no worker streams it",
  removed: "not measured: the database was removed",
};

/**
 * "0 B · 0.2 s": WAL the slot holds past its confirmed position, and how far the trail is behind
 * (left out while that is not known yet: behind with nothing stored to measure from), as the worker streaming
 * the source measures it. While none does, the bytes come from the slot as the web app read it at the source
 * (how far behind in time is then unknown); when the source cannot be read either, the lag is unknown, and the
 * time of the last measurement says how old the last known one is.
 */
export function Lag({ database, now }: { database: DatabaseJson; now: number }) {
  const { lagBytes, lagSeconds, lagMeasuredAt, health } = database;
  if (!health.lagCurrent) {
    const why = NOT_MEASURED[health.state];
    const pending = database.slot?.slot?.exists ? database.slot.slot.pendingBytes : null;
    if (pending !== null && pending !== undefined && database.slot) {
      // No worker measures it now, but the slot at the source says how much is waiting.
      return (
        <span
          className="text-slate-600"
          title={
            `Read at the source ${exactTime(database.slot.readAt)}: WAL past the slot's confirmed position. ` +
            "How far behind in time is unknown while no worker streams it."
          }
        >
          <span className="whitespace-nowrap tabular-nums">{formatBytes(pending)}</span>
          <span className="block text-xs text-slate-500">behind · time unknown</span>
        </span>
      );
    }
    if (lagMeasuredAt === null) {
      return (
        <span className="text-slate-400" title={`Lag ${why}`}>
          —
        </span>
      );
    }
    return (
      <span className="text-slate-500" title={`Unknown: ${why}. Last measured ${exactTime(lagMeasuredAt)}.`}>
        Unknown
        <span className="block text-xs">
          last measured <RelativeTime iso={lagMeasuredAt} now={now} />
        </span>
      </span>
    );
  }
  if (lagBytes === null || lagMeasuredAt === null) return <span className="text-slate-400">—</span>;
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
        `${stale ? ": no measurement since" : ""}${unknownSeconds}`
      }
    >
      {text}
    </span>
  );
}
