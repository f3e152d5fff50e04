import crypto from "node:crypto";

/** A partition's time range: [from, to), UTC. */
export type Span = { from: Date; to: Date };

/** A bucket kept at most this many days gets a partition a day (expiry a day at a time), else one a month. */
export const DAILY_UP_TO_DAYS = 31;

const DAY_MS = 86_400_000;

/** The span that holds `at`: its UTC day when `days` (the bucket's retention) is at most 31, else its UTC month. */
export function spanAt(at: Date, days: number | null): Span {
  if (days !== null && days <= DAILY_UP_TO_DAYS) {
    const from = Math.floor(at.getTime() / DAY_MS) * DAY_MS;
    return { from: new Date(from), to: new Date(from + DAY_MS) };
  }
  const from = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1);
  return { from: new Date(from), to: new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1)) };
}

/** The span holding `at` and the `ahead` after it. */
export function spansFrom(at: Date, days: number | null, ahead: number): Span[] {
  const spans = [spanAt(at, days)];
  for (let i = 0; i < ahead; i++) spans.push(spanAt((spans[spans.length - 1] as Span).to, days));
  return spans;
}

/** A bucket in a partition's name: `s` for the source's own, else `t` and 8 hex of the table's SHA-256. */
export function bucketTag(bucket: string): string {
  return bucket === "" ? "s" : `t${crypto.createHash("sha256").update(bucket).digest("hex").slice(0, 8)}`;
}

const pad = (n: number) => String(n).padStart(2, "0");

/**
 * `changes_<first 12 hex of the source id>_<bucket tag>_<yyyymmdd>`, and `_<hhmmss>` when the span does not start
 * at midnight (a span cut short by a partition already there). At most 8 + 12 + 10 + 9 + 7 = 46 bytes (≤ 63).
 */
export function partitionName(sourceId: string, bucket: string, from: Date): string {
  const day = `${from.getUTCFullYear()}${pad(from.getUTCMonth() + 1)}${pad(from.getUTCDate())}`;
  const time =
    from.getTime() % DAY_MS === 0
      ? ""
      : `_${pad(from.getUTCHours())}${pad(from.getUTCMinutes())}${pad(from.getUTCSeconds())}`;
  return `changes_${sourceId.replace(/-/g, "").slice(0, 12)}_${bucketTag(bucket)}_${day}${time}`;
}

/** A partition's name when partitionName's is taken (another source whose id starts alike): a hash of the id too. */
export function partitionNameDisambiguated(sourceId: string, bucket: string, from: Date): string {
  const hash = crypto.createHash("md5").update(sourceId).digest("hex").slice(0, 6);
  return `${partitionName(sourceId, bucket, from)}_${hash}`;
}

/**
 * The part of `wanted` no partition in `existing` (same source and bucket) covers, from its start: partitions may
 * not overlap, and spans change size when a rule does (a month made while a bucket was kept forever, days after
 * it got a 7-day rule). Null when the start of `wanted` is covered up to its end.
 */
export function uncovered(wanted: Span, existing: readonly Span[]): Span | null {
  let from = wanted.from.getTime();
  const to = wanted.to.getTime();
  for (let moved = true; moved;) {
    moved = false;
    for (const span of existing) {
      if (span.from.getTime() <= from && from < span.to.getTime()) {
        from = span.to.getTime();
        moved = true;
      }
    }
  }
  if (from >= to) return null;
  let end = to;
  for (const span of existing) {
    if (span.from.getTime() > from && span.from.getTime() < end) end = span.from.getTime();
  }
  return { from: new Date(from), to: new Date(end) };
}

/**
 * The part of `wanted` around `at` that no partition in `existing` covers (`at` itself is covered by none: a row
 * that landed in the default partition).
 */
export function uncoveredAround(wanted: Span, existing: readonly Span[], at: Date): Span {
  let from = wanted.from.getTime();
  let to = wanted.to.getTime();
  const t = at.getTime();
  for (const span of existing) {
    if (span.to.getTime() <= t && span.to.getTime() > from) from = span.to.getTime();
    if (span.from.getTime() > t && span.from.getTime() < to) to = span.from.getTime();
  }
  return { from: new Date(from), to: new Date(to) };
}
