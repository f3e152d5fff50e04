"use client";

import { useSyncExternalStore } from "react";
import { utcTime, zonedTime } from "@/lib/changes/zoned-time";

const noSubscription = () => () => {};
const browserZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;

/**
 * A stored time in the reader's local time and in UTC, to the microsecond. The server does not know the reader's
 * zone: it renders UTC alone, and the browser adds local time once hydrated.
 */
export function LocalAndUtcTime({ iso }: { iso: string }) {
  const zone = useSyncExternalStore(noSubscription, browserZone, () => null);
  const local = zone === null ? null : zonedTime(iso, zone);
  const utc = utcTime(iso);
  return (
    <span className="flex flex-col font-mono">
      {local !== null && local !== utc ? (
        <time dateTime={iso} data-zone="local" title={`Local time (${zone})`}>
          {local}
        </time>
      ) : null}
      <time dateTime={iso} data-zone="utc" className={local !== null && local !== utc ? "text-slate-500" : ""}>
        {utc}
      </time>
    </span>
  );
}
