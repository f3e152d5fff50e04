import { describe, expect, it } from "vitest";
import type { StorageFacts } from "./read";
import { buildStorageReport, GROWTH_DAYS } from "./report";
import { environmentRows } from "./totals";

const NOW = new Date("2026-12-07T12:00:00Z");
const at = (day: string) => new Date(`${day}T00:00:00Z`);

function facts(): StorageFacts {
  return {
    partitions: [
      // s1's own partitions for Dec 6 and Dec 7, and public.orders' own for Dec 7; one made ahead for Dec 8.
      { name: "p1", sourceId: "s1", bucket: "", fromAt: at("2026-12-06"), toAt: at("2026-12-07"), bytes: 8000 },
      { name: "p2", sourceId: "s1", bucket: "", fromAt: at("2026-12-07"), toAt: at("2026-12-08"), bytes: 4000 },
      {
        name: "p3",
        sourceId: "s1",
        bucket: "public.orders",
        fromAt: at("2026-12-07"),
        toAt: at("2026-12-08"),
        bytes: 3000,
      },
      { name: "p4", sourceId: "s1", bucket: "", fromAt: at("2026-12-08"), toAt: at("2026-12-09"), bytes: 100 },
    ],
    leaves: [
      { name: "p1", bytes: 8000, cataloged: true },
      { name: "p2", bytes: 4000, cataloged: true },
      { name: "p3", bytes: 3000, cataloged: true },
      { name: "p4", bytes: 100, cataloged: true },
      { name: "changes_default", bytes: 500, cataloged: false },
    ],
    groups: [
      { sourceId: "s1", table: "public.items", day: "2026-12-06", rows: 60 },
      { sourceId: "s1", table: "public.orders", day: "2026-12-06", rows: 20 },
      { sourceId: "s1", table: "public.items", day: "2026-12-07", rows: 40 },
      { sourceId: "s1", table: "public.orders", day: "2026-12-07", rows: 30 },
      // s2 has no partitions: its changes are in the default partition.
      { sourceId: "s2", table: "public.users", day: "2026-12-07", rows: 10 },
    ],
    sources: [
      { id: "s1", name: "shop", database: "shop", environment: "test", removed: false },
      { id: "s2", name: "crm", database: "crm", environment: "production", removed: false },
    ],
    overhead: [
      { name: "change_seals", bytes: 700 },
      { name: "seal_checkpoints", bytes: 300 },
      { name: "change_segments", bytes: 2000 },
    ],
    databaseBytes: 100_000,
  };
}

describe("buildStorageReport", () => {
  const report = buildStorageReport(facts(), [{ environment: "test", table: null, days: 1, archive: false }], NOW);

  it("sums the partitions exactly and the default partition apart", () => {
    expect(report.trail).toEqual({
      bytes: 15_600,
      rows: 160,
      partitions: 4,
      unpartitioned: { bytes: 500, rows: 10 },
      empty: { partitions: 1, bytes: 100 },
    });
    const [shop, crm] = report.databases;
    // shop's bytes hold p4, made ahead for Dec 8 with no changes yet.
    const none = { partitions: 0, bytes: 0 };
    expect(shop).toMatchObject({ name: "shop", bytes: 15_100, rows: 150, estimated: false });
    expect(shop?.ahead).toEqual({ partitions: 1, bytes: 100 });
    expect(crm).toMatchObject({ name: "crm", bytes: 500, rows: 10, estimated: true, ahead: none });
    expect(report.environments).toEqual([
      { name: "test", bytes: 15_100, rows: 150, estimated: false, ahead: { partitions: 1, bytes: 100 } },
      { name: "production", bytes: 500, rows: 10, estimated: true, ahead: none },
    ]);
  });

  it("estimates a table's bytes from its changes × its partition's bytes per change", () => {
    const tables = Object.fromEntries(report.tables.map((t) => [t.table, t]));
    // items: 60 of p1's 80 changes (8000 B) + all 40 of p2's (4000 B); orders: 20 of p1's + p3 whole.
    expect(tables["public.items"]).toMatchObject({ rows: 100, estimatedBytes: 10_000 });
    expect(tables["public.orders"]).toMatchObject({ rows: 50, estimatedBytes: 5000 });
    expect(tables["public.users"]).toMatchObject({ rows: 10, estimatedBytes: 500, environment: "production" });
  });

  it("adds the tables up to the trail less its partitions made ahead, which the databases' bytes hold", () => {
    const tables = report.tables.reduce((sum, t) => sum + t.estimatedBytes, 0);
    expect(tables).toBe(report.trail.bytes - report.trail.empty.bytes);
    const databases = report.databases.reduce((sum, d) => sum + d.bytes, 0);
    expect(databases).toBe(report.trail.bytes);
    expect(databases - report.databases.reduce((sum, d) => sum + d.ahead.bytes, 0)).toBe(tables);
  });

  it("gives every one of the last 30 days, the empty partition made ahead on its own day", () => {
    expect(report.growth).toHaveLength(GROWTH_DAYS);
    expect(report.growth.at(-1)).toEqual({ day: "2026-12-07", rows: 80, bytes: 7500 });
    expect(report.growth.at(-2)).toEqual({ day: "2026-12-06", rows: 80, bytes: 8000 });
    expect(report.growth[0]?.day).toBe("2026-11-08");
  });

  it("forecasts the stored rules and names the overhead", () => {
    // 1 day: p1 (ended Dec 7 00:00) expired at Dec 8 00:00: within 7 days, as are p2 and p3 (orders follows test).
    expect(report.retention.total.now.partitions).toBe(0);
    expect(report.retention.total.within7Days).toEqual({ partitions: 4, bytes: 15_100, rows: 150 });
    expect(report.overhead).toEqual([
      { name: "Seals", tables: ["change_seals", "seal_checkpoints"], bytes: 1000 },
      {
        name: "Change summary",
        tables: ["change_segments", "change_rollups", "change_contexts", "trail_tables"],
        bytes: 2000,
      },
      {
        name: "Retention catalog",
        tables: ["trail_partitions", "trail_expiries", "retention_rules", "trail_holds"],
        bytes: 0,
      },
      { name: "Everything else", tables: [], bytes: 100_000 - 15_600 - 3000 },
    ]);
  });
});

describe("environmentRows", () => {
  it("adds the databases deleted since as a row of their own, so the rows add up to the trail", () => {
    const withDeleted = facts();
    // s3's row is gone; its partition made ahead is still there.
    withDeleted.partitions.push({
      name: "p5",
      sourceId: "s3",
      bucket: "",
      fromAt: at("2026-12-08"),
      toAt: at("2026-12-09"),
      bytes: 900,
    });
    withDeleted.leaves.push({ name: "p5", bytes: 900, cataloged: true });
    const report = buildStorageReport(withDeleted, [], NOW);
    const rows = environmentRows(report);
    expect(rows.map((row) => [row.name, row.bytes, row.deleted])).toEqual([
      ["test", 15_100, false],
      ["production", 500, false],
      ["A deleted database", 900, true],
    ]);
    expect(rows.at(-1)?.ahead).toEqual({ partitions: 1, bytes: 900 });
    expect(rows.reduce((sum, row) => sum + row.bytes, 0)).toBe(report.trail.bytes);
    expect(environmentRows(buildStorageReport(facts(), [], NOW)).map((row) => row.name)).toEqual([
      "test",
      "production",
    ]);
  });
});
