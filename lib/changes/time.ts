/**
 * ISO-8601 times as the API takes them (`from`, `to`), kept to the microsecond: a JavaScript Date would drop
 * everything after the millisecond, so only the whole milliseconds go through it. Client-safe.
 */

const TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/;

/**
 * The time as UTC text with six fraction digits ("2024-05-06T05:08:09.123456Z"), which sorts as the times do, or
 * null when it is not an ISO-8601 time with a time zone. A date alone is midnight UTC. A `+` that a URL turned into
 * a space before the offset ("…09 02:00") counts as the `+` it was.
 */
export function parseIsoTime(input: string): string | null {
  const text = input.trim().replace(/^(\S+[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$/, "$1+$2");
  const match = TIME.exec(text);
  if (!match) return null;
  const [, year, month, day, hour, minute, second = "00", fraction = "", zone] = match;
  if (hour !== undefined && zone === undefined) return null;
  const parts = [year, month, day, hour ?? "00", minute ?? "00", second].map(Number);
  const [y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0] = parts;
  // Date.UTC rolls over (February 30th is March 1st): a time must name itself.
  const local = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  local.setUTCFullYear(y);
  if (local.getUTCMonth() !== mo - 1 || local.getUTCDate() !== d || local.getUTCHours() !== h) return null;
  if (local.getUTCMinutes() !== mi || local.getUTCSeconds() !== s) return null;
  const offsetMinutes = zoneMinutes(zone ?? "Z");
  if (offsetMinutes === null) return null;
  const micros = fraction.padEnd(6, "0");
  const utc = new Date(local.getTime() - offsetMinutes * 60_000 + Number(micros.slice(0, 3)));
  if (Number.isNaN(utc.getTime()) || utc.getUTCFullYear() < 1 || utc.getUTCFullYear() > 9999) return null;
  return `${utc.toISOString().slice(0, -1)}${micros.slice(3)}Z`;
}

function zoneMinutes(zone: string): number | null {
  if (zone === "Z" || zone === "z") return 0;
  const digits = zone.slice(1).replace(":", "");
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
  if (hours > 15 || minutes > 59) return null;
  return (zone.startsWith("-") ? -1 : 1) * (hours * 60 + minutes);
}

/** Milliseconds since the epoch of a time parseIsoTime returned (the microseconds left out). */
export function isoTimeMillis(time: string): number {
  return Date.parse(`${time.slice(0, 23)}Z`);
}
