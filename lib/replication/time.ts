/**
 * pg-logical-replication's readTime() returns the commit time as a bigint of microseconds since
 * the Unix epoch (it adds the 2000-01-01 offset itself). A JS Date would drop the microseconds,
 * so only the whole seconds go through Date and the fraction is appended as text.
 */
export function microsToTimestamp(micros: bigint): string {
  let seconds = micros / 1_000_000n;
  let fraction = micros % 1_000_000n;
  if (fraction < 0n) {
    fraction += 1_000_000n;
    seconds -= 1n;
  }
  const iso = new Date(Number(seconds) * 1000).toISOString();
  return `${iso.slice(0, -5)}.${fraction.toString().padStart(6, "0")}Z`;
}

/**
 * Wall-clock now in microseconds since the Unix epoch (millisecond resolution). A number, not a
 * bigint: it is read for every row, and stays a safe integer until the year 2255.
 */
export function nowMicros(): number {
  return Date.now() * 1000;
}
