import { describe, expect, it } from "vitest";
import { partitionName, spanAt, spansFrom, uncovered } from "./spans";

const d = (text: string) => new Date(text);

describe("spans", () => {
  it("is a UTC day for a bucket kept up to 31 days, else a UTC month", () => {
    expect(spanAt(d("2026-12-07T23:59:59.999Z"), 7)).toEqual({ from: d("2026-12-07"), to: d("2026-12-08") });
    expect(spanAt(d("2026-12-07T01:00:00+03:00"), 31)).toEqual({ from: d("2026-12-06"), to: d("2026-12-07") });
    expect(spanAt(d("2026-12-31T23:00:00Z"), 32)).toEqual({ from: d("2026-12-01"), to: d("2027-01-01") });
    expect(spanAt(d("2026-02-10T00:00:00Z"), null)).toEqual({ from: d("2026-02-01"), to: d("2026-03-01") });
    expect(spansFrom(d("2026-12-31T12:00:00Z"), 1, 2).map((s) => s.from)).toEqual([
      d("2026-12-31"),
      d("2027-01-01"),
      d("2027-01-02"),
    ]);
  });

  it("names a partition by source, bucket and start, within 63 bytes", () => {
    const source = "0123abcd-4567-89ef-0123-456789abcdef";
    expect(partitionName(source, "", d("2026-12-01"))).toBe("changes_0123abcd4567_s_20261201");
    const table = partitionName(source, "public.a_very_long_table_name_that_goes_on_and_on", d("2026-12-01T06:30:15Z"));
    expect(table).toMatch(/^changes_0123abcd4567_t[0-9a-f]{8}_20261201_063015$/);
    expect(Buffer.byteLength(table)).toBeLessThanOrEqual(63);
    expect(partitionName(source, "public.b", d("2026-12-01"))).not.toBe(
      partitionName(source, "public.c", d("2026-12-01")),
    );
  });

  it("leaves out what partitions already there cover", () => {
    const month = { from: d("2026-12-01"), to: d("2027-01-01") };
    expect(uncovered({ from: d("2026-12-07"), to: d("2026-12-08") }, [month])).toBeNull();
    expect(uncovered({ from: d("2027-01-01"), to: d("2027-01-02") }, [month])).toEqual({
      from: d("2027-01-01"),
      to: d("2027-01-02"),
    });
    // A month wanted where a day partition already stands in its middle: up to that day.
    expect(uncovered(month, [{ from: d("2026-12-07"), to: d("2026-12-08") }])).toEqual({
      from: d("2026-12-01"),
      to: d("2026-12-07"),
    });
    expect(uncovered(month, [{ from: d("2026-12-01"), to: d("2026-12-08") }])).toEqual({
      from: d("2026-12-08"),
      to: d("2027-01-01"),
    });
  });
});
