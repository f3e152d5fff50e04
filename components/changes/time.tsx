"use client";

import { useEffect, useState } from "react";

/** The API's microsecond ISO text as a Date (JavaScript keeps milliseconds). */
function toDate(iso: string): Date {
  return new Date(iso.replace(/(\.\d{3})\d+/, "$1"));
}

/** Exact, as stored: "2024-05-06 07:08:09.123456 UTC". */
export function exactTime(iso: string): string {
  return iso.replace("T", " ").replace(/Z$/, " UTC");
}

const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
];

export function relativeTime(iso: string, now: number): string {
  const seconds = (toDate(iso).getTime() - now) / 1000;
  if (Math.abs(seconds) < 10) return "just now";
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
  }
  return relative.format(Math.round(seconds), "second");
}

/** The current time, refreshed every few seconds so relative times stay true. */
export function useNow(intervalMs = 10_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

/**
 * Relative time, with the exact microsecond timestamp on hover. The server renders it with its clock and the
 * browser hydrates with its own: the text may differ by then, which is expected.
 */
export function RelativeTime({ iso, now }: { iso: string; now: number }) {
  return (
    <time dateTime={iso} title={exactTime(iso)} className="whitespace-nowrap" suppressHydrationWarning>
      {relativeTime(iso, now)}
    </time>
  );
}
