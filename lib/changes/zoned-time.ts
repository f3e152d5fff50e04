/**
 * A stored time (the API's ISO-8601 UTC text with microseconds) read in a time zone, to the microsecond:
 * "2024-05-06 09:08:09.123456 GMT+2". JavaScript dates hold milliseconds, so the fraction is taken from the text.
 * Client-safe; `timeZone` undefined is the runtime's own (the browser's: the reader's local time).
 */
export function zonedTime(iso: string, timeZone?: string): string {
  const fraction = /\.(\d+)Z$/.exec(iso)?.[1] ?? "";
  const date = new Date(iso.replace(/(\.\d{3})\d+Z$/, "$1Z"));
  if (Number.isNaN(date.getTime())) return iso;
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
    timeZoneName: "shortOffset",
  }).formatToParts(date);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? "";
  // A zero offset reads "GMT" or "GMT+0" depending on the runtime's ICU data.
  const zone = /^GMT(\+0)?$/.test(part("timeZoneName")) ? "UTC" : part("timeZoneName");
  const seconds = fraction ? `${part("second")}.${fraction}` : part("second");
  return `${part("year")}-${part("month")}-${part("day")} ${part("hour")}:${part("minute")}:${seconds} ${zone}`;
}

/** The same time in UTC. */
export const utcTime = (iso: string) => zonedTime(iso, "UTC");
