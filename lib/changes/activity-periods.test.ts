import { describe, expect, it } from "vitest";
import { rollupPeriods } from "./activity";

const MINUTE = 60_000;
const HOUR = 3_600_000;

/** Every minute the periods cover, each once, with the span that covers it. */
function minutes(periods: ReturnType<typeof rollupPeriods>): Map<number, number> {
  const covered = new Map<number, number>();
  for (const p of periods) {
    expect(p.from % (p.span * 1000)).toBe(0);
    expect(p.to % (p.span * 1000)).toBe(0);
    for (let m = p.from; m < p.to; m += MINUTE) {
      expect(covered.has(m)).toBe(false);
      covered.set(m, p.span);
    }
  }
  return covered;
}

describe("rollupPeriods", () => {
  it("tiles the range, whole hours inside a bucket from the hourly rows, everything else by the minute", () => {
    const origin = Date.parse("2026-11-02T03:17:00Z");
    for (const bucketMinutes of [1, 24, 59, 60, 61, 90, 180, 1440]) {
      for (const toMs of [origin + 5 * HOUR + 13_500, origin + 26 * HOUR, origin + 43 * MINUTE]) {
        const covered = minutes(rollupPeriods(origin, bucketMinutes * 60, toMs));
        const end = Math.ceil(toMs / MINUTE) * MINUTE;
        expect(covered.size).toBe((end - origin) / MINUTE);
        for (const [m, span] of covered) {
          if (span !== 3600) continue;
          // A whole hour, inside one bucket.
          const hour = m - (m % HOUR);
          expect(Math.floor((hour - origin) / (bucketMinutes * MINUTE))).toBe(
            Math.floor((hour + HOUR - MINUTE - origin) / (bucketMinutes * MINUTE)),
          );
        }
      }
    }
  });

  it("reads a day in 60 buckets of 24 minutes by the minute, and a week in 7 buckets mostly by the hour", () => {
    const origin = Date.parse("2026-11-02T03:17:00Z");
    const day = rollupPeriods(origin, 1440, origin + 24 * HOUR);
    expect(day).toEqual([{ span: 60, from: origin, to: origin + 24 * HOUR }]);
    const week = rollupPeriods(origin, 24 * 3600, origin + 7 * 24 * HOUR);
    // Each bucket: 43 minutes, 23 whole hours, 17 minutes; adjacent minutes joined across buckets.
    expect(week.filter((p) => p.span === 3600)).toHaveLength(7);
    expect(week.filter((p) => p.span === 60)).toHaveLength(8);
  });
});
