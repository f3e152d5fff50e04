/**
 * Microseconds since the Unix epoch (a number: exact up to 2^53 µs, i.e. until the year 2255) as
 * ISO-8601 UTC text with all six fraction digits. A JS Date would drop the microseconds, so only
 * the whole seconds go through Date, once per second: consecutive commit times usually share
 * their second, and this runs for every source transaction.
 */
let lastSecond = Number.NaN;
let lastSecondText = "";

export function microsToTimestamp(micros: number): string {
  if (!Number.isSafeInteger(micros)) throw new Error(`Timestamp out of range: ${micros} µs`);
  let fraction = micros % 1_000_000;
  if (fraction < 0) fraction += 1_000_000;
  const second = (micros - fraction) / 1_000_000;
  if (second !== lastSecond) {
    lastSecondText = new Date(second * 1000).toISOString().slice(0, -5);
    lastSecond = second;
  }
  return `${lastSecondText}.${fraction < 100_000 ? String(fraction).padStart(6, "0") : fraction}Z`;
}

/**
 * Wall-clock now in microseconds since the Unix epoch (millisecond resolution). A number, not a
 * bigint: it is read for every row, and stays a safe integer until the year 2255.
 */
export function nowMicros(): number {
  return Date.now() * 1000;
}
