/**
 * The time filter as the change browser keeps it in its URL. `from` and `to` are ISO-8601 times, as the API takes
 * them, or a time relative to now (`now-15m`): a preset. A preset stays relative in the URL, so a bookmarked "last
 * hour" is the last hour whenever it is opened; it becomes a time only when a request is made (resolveTime).
 * Client-safe.
 */

export const TIME_PRESETS = [
  { value: "now-15m", label: "Last 15 minutes", short: "15 min" },
  { value: "now-1h", label: "Last hour", short: "1 hour" },
  { value: "now-1d", label: "Last day", short: "1 day" },
  { value: "now-7d", label: "Last 7 days", short: "7 days" },
] as const;

const RELATIVE = /^now-(\d{1,4})(m|h|d)$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** An ISO time for the API: a relative time counted back from `now`, anything else as it is (the API checks it). */
export function resolveTime(value: string, now: number): string {
  const match = RELATIVE.exec(value.trim());
  if (!match) return value;
  const [, amount = "0", unit = "m"] = match;
  return new Date(now - Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS]).toISOString();
}

export function isRelativeTime(value: string): boolean {
  return RELATIVE.test(value.trim());
}

/** The preset a `from` is, with no `to` (a preset runs up to now). */
export function presetOf(range: { from?: string; to?: string }) {
  if (range.to) return undefined;
  return TIME_PRESETS.find((preset) => preset.value === range.from);
}

const dateTime = new Intl.DateTimeFormat("en-GB", {
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
});

/** A time of the filter as a reader reads it, in their time zone (`7 May 2026, 09:30`). */
export function describeTime(value: string): string {
  if (isRelativeTime(value)) return value;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : dateTime.format(date);
}

/** The chip's text for a time filter: "Last hour", "From 7 May 2026, 09:30 to 7 May 2026, 10:00". */
export function describeRange(range: { from?: string; to?: string }): string | null {
  const preset = presetOf(range);
  if (preset) return preset.label;
  if (range.from && range.to) return `${describeTime(range.from)} – ${describeTime(range.to)}`;
  if (range.from) return `Since ${describeTime(range.from)}`;
  if (range.to) return `Before ${describeTime(range.to)}`;
  return null;
}

/** An ISO time as the value of a `datetime-local` input (the reader's local time, to the minute). */
export function toLocalInput(value: string | undefined, now: number): string {
  if (!value) return "";
  const date = new Date(resolveTime(value, now));
  if (Number.isNaN(date.getTime())) return "";
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

/** A `datetime-local` input's value (local time) as an ISO time; "" when empty or not a time. */
export function fromLocalInput(value: string): string {
  if (!value) return "";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? "" : date.toISOString();
}
