import { describe, expect, it } from "vitest";
import { estimateDisk, freeBytes, GUESS_BYTES_PER_CHANGE, type DiskUse } from "./scale-disk";
import { growthOf, type ScaleStep } from "./scale";
import { scaleVerdict } from "./scale-report";

const GiB = 2 ** 30;
const diskOf = (store: number, sources: number, wal = 0): DiskUse => ({
  store: { data: store, wal },
  sources: { data: sources, wal: 0 },
});

function step(changes: number, streamingRate: number, p95: Record<string, number>): ScaleStep {
  return {
    changes,
    ingest: { changes: 1000, seconds: 1, rate: streamingRate / 2, streamingSeconds: 1, streamingRate },
    workerPeakRssMb: 100,
    vacuumAnalyzeSeconds: 1,
    disk: diskOf(1, 1),
    queries: Object.entries(p95).map(([name, p95Ms]) => ({ name, path: "/", rows: 1, p50Ms: p95Ms / 2, p95Ms })),
    firstPaint: null,
  };
}

describe("growthOf", () => {
  it("calls a query grown only past 1.25× and 5 ms, and ingest slowed only below 0.8×", () => {
    const growth = growthOf(
      step(10, 60_000, { flat: 20, slower: 20, noise: 2, faster: 40 }),
      step(50, 47_000, { flat: 24, slower: 26, noise: 6, faster: 20 }),
    );
    expect(growth.queries.map((q) => [q.name, q.grows])).toEqual([
      ["flat", false], // 1.2×
      ["slower", true], // 1.3× and 6 ms
      ["noise", false], // 3× but 4 ms
      ["faster", false],
    ]);
    expect(growth.p95Grows).toBe(true);
    expect(growth.ingestRatio).toBeCloseTo(47 / 60);
    expect(growth.ingestGrows).toBe(true);
    expect(growthOf(step(10, 60_000, {}), step(50, 49_000, {})).ingestGrows).toBe(false);
  });

  it("says so in words, naming the queries that grow", () => {
    const first = step(10_000_000, 60_000, { a: 10, b: 10 });
    const last = step(50_000_000, 59_000, { a: 10, b: 40 });
    const lines = scaleVerdict({
      stepsAtScale1: [],
      chunkAtScale1: 0,
      steps: [first, last],
      estimates: [],
      growth: growthOf(first, last),
      refused: null,
      errors: [],
    });
    expect(lines[0]).toContain("at 50M / at 10M: 0.98, it does not slow");
    expect(lines[1]).toContain("1 of 2 queries grow");
    expect(lines[1]).toContain("b ×4.00");
  });
});

describe("estimateDisk", () => {
  it("guesses per change before anything is stored, then grows by what was measured", () => {
    const guessed = estimateDisk(diskOf(GiB, GiB), diskOf(GiB, GiB), 0, 1_000_000);
    expect(guessed.perChange).toEqual({ ...GUESS_BYTES_PER_CHANGE, measured: false });
    const measured = estimateDisk(diskOf(GiB, GiB), diskOf(GiB + 500e6, GiB + 100e6), 1_000_000, 5_000_000);
    expect(measured.perChange).toEqual({ store: 500, sources: 100, measured: true });
    expect(measured.storeBytes).toBe(GiB + 2_500_000_000);
    expect(measured.sourcesBytes).toBe(GiB + 500_000_000);
    // The WAL grows with what is written, up to both servers' max_wal_size.
    expect(measured.walBytes).toBe(2_400_000_000);
    expect(measured.neededBytes).toBe(Math.round(2_400_000_000 * 1.1 + 2_400_000_000));
    expect(measured.fits).toBe(true);
  });

  it("does not fit when the free space cannot hold it", () => {
    const huge = estimateDisk(diskOf(0, 0), diskOf(0, 0), 0, Math.ceil(freeBytes() / 100));
    expect(huge.walBytes).toBe(16 * GiB);
    expect(huge.fits).toBe(false);
  });
});
