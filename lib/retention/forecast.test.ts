import { describe, expect, it } from "vitest";
import { expiresAt, forecastRetention, governingRule, heldBy, type PartitionSize } from "./forecast";
import type { RetentionRule } from "./input";

const NOW = new Date("2026-12-07T12:00:00Z");
const day = (n: number) => new Date(Date.UTC(2026, 11, 7 + n));

/** A day's partition of source `s1` in `test`, `daysAgo` days before today (UTC). */
function partition(daysAgo: number, options: Partial<PartitionSize> = {}): PartitionSize {
  return {
    name: `changes_p${daysAgo}_${options.bucket ?? ""}`,
    sourceId: "s1",
    environment: "test",
    bucket: "",
    fromAt: day(-daysAgo),
    toAt: day(-daysAgo + 1),
    bytes: 1000,
    rows: 10,
    ...options,
  };
}

describe("governingRule", () => {
  const rules: RetentionRule[] = [
    { environment: "test", table: null, days: 7, archive: false },
    { environment: "test", table: "public.orders", days: 90, archive: true },
  ];
  it("takes the table's rule for its bucket, else the environment's; none for a gone source", () => {
    expect(governingRule(partition(0, { bucket: "public.orders" }), rules)?.days).toBe(90);
    expect(governingRule(partition(0, { bucket: "public.gone_rule" }), rules)?.days).toBe(7);
    expect(governingRule(partition(0), rules)?.days).toBe(7);
    expect(governingRule(partition(0, { environment: "production" }), rules)).toBeUndefined();
    expect(governingRule(partition(0, { environment: null }), rules)).toBeUndefined();
  });
});

describe("expiresAt", () => {
  it("is the partition's end plus the rule's days; never for forever or no rule", () => {
    const rule: RetentionRule = { environment: "test", table: null, days: 7, archive: false };
    expect(expiresAt(partition(0), rule)?.toISOString()).toBe("2026-12-15T00:00:00.000Z");
    expect(expiresAt(partition(0), { ...rule, days: null })).toBeNull();
    expect(expiresAt(partition(0), undefined)).toBeNull();
  });
});

describe("forecastRetention", () => {
  it("counts what expires now, within 7 and within 30 days, per rule and in total", () => {
    const rules: RetentionRule[] = [
      { environment: "test", table: null, days: 7, archive: false },
      { environment: "test", table: "public.orders", days: 30, archive: false },
      { environment: "production", table: null, days: null, archive: false },
    ];
    // Days 0..40 ago of the source's own bucket, and of public.orders' bucket.
    const partitions = Array.from({ length: 41 }, (_, i) => [
      partition(i),
      partition(i, { bucket: "public.orders", bytes: 500, rows: 5 }),
    ]).flat();
    partitions.push(partition(100, { environment: "production" }));
    const forecast = forecastRetention(partitions, rules, NOW);
    // 7 days: the partition of 8 days ago ended 7 days ago (7d 12h before NOW): expired, and so is every older one.
    const [test, orders, production] = forecast.rules;
    expect(test?.now).toEqual({ partitions: 33, bytes: 33_000, rows: 330 });
    // Within 7 days: the partitions of 1..7 days ago too (today's ends tomorrow + 7 days: 7.5 days away).
    expect(test?.within7Days.partitions).toBe(40);
    expect(test?.within30Days.partitions).toBe(41);
    expect(orders?.now).toEqual({ partitions: 10, bytes: 5000, rows: 50 });
    expect(orders?.within7Days.partitions).toBe(17);
    expect(orders?.within30Days.partitions).toBe(40);
    expect(production?.within30Days).toEqual({ partitions: 0, bytes: 0, rows: 0 });
    expect(forecast.total.now).toEqual({ partitions: 43, bytes: 38_000, rows: 380 });
  });

  it("leaves out what an active hold keeps: a partition of its database whose span overlaps the hold's", () => {
    const rules: RetentionRule[] = [{ environment: "test", table: null, days: 1, archive: false }];
    const partitions = [partition(10), partition(11), partition(12), partition(10, { sourceId: "s2" })];
    // From the last hour of 12 days ago to 10 days ago's midnight: overlaps the partitions of 12 and 11 days ago.
    const hold = { sourceId: "s1", fromAt: new Date(day(-11).getTime() - 3_600_000), toAt: day(-10) };
    expect(forecastRetention(partitions, rules, NOW).total.now.partitions).toBe(4);
    const held = forecastRetention(partitions, rules, NOW, [hold]);
    expect(held.total.now).toEqual({ partitions: 2, bytes: 2000, rows: 20 });
    expect(heldBy(hold, partition(10))).toBe(false);
    expect(heldBy(hold, partition(11))).toBe(true);
    expect(heldBy(hold, partition(12))).toBe(true);
    expect(heldBy(hold, partition(11, { sourceId: "s2" }))).toBe(false);
  });

  it("frees nothing without rules", () => {
    expect(forecastRetention([partition(400)], [], NOW).total.within30Days.partitions).toBe(0);
  });
});

describe("the forecast and the expirer", () => {
  it("take the same rule for every bucket (lib/retention/rules.ts resolves it for the expirer)", async () => {
    const { resolveRetention } = await import("./rules");
    const rules: RetentionRule[] = [
      { environment: "test", table: null, days: 7, archive: true },
      { environment: "test", table: "public.orders", days: 90, archive: false },
      { environment: "staging", table: "public.orders", days: 30, archive: false },
    ];
    const stored = rules.map((rule) => ({ ...rule, table: rule.table ?? "" }));
    for (const environment of ["test", "staging", "production"]) {
      for (const bucket of ["", "public.orders", "public.items"]) {
        const rule = governingRule({ environment, bucket }, rules);
        const expected = resolveRetention(stored, environment, bucket);
        expect({ days: rule?.days ?? null, archive: rule?.archive ?? false }, `${environment} ${bucket}`).toEqual(
          expected,
        );
      }
    }
  });
});
