import { describe, expect, it } from "vitest";
import { mergeResults, type ResultsFile } from "./results-file";

const file = (timestamp: string, parts: Partial<ResultsFile>): ResultsFile => ({
  timestamp,
  scaleFactor: 1,
  workloads: [],
  machine: { cpuModel: "cpu", gitCommit: timestamp.slice(0, 4) },
  throughput: [],
  lag: null,
  browse: null,
  scale: null,
  ...parts,
});

describe("mergeResults", () => {
  it("replaces what the run measured, keeps the rest with the run it came from", () => {
    const previous = file("2026-12-04T00:00:00Z", {
      throughput: [
        { name: "a", rate: 1 },
        { name: "b", rate: 2 },
      ],
      lag: { p99Ms: 60 },
      scale: { growth: 1, run: { timestamp: "2026-12-03", scaleFactor: 1, cpuModel: "x", gitCommit: "s" } },
    });
    const latest = file("2026-12-07T00:00:00Z", { throughput: [{ name: "a", rate: 3 }], browse: { queries: [] } });
    const merged = mergeResults(previous, latest);
    expect(merged.timestamp).toBe("2026-12-07T00:00:00Z");
    expect(merged.throughput.map((w) => [w.name, w.rate, w.run?.timestamp])).toEqual([
      ["a", 3, "2026-12-07T00:00:00Z"],
      ["b", 2, "2026-12-04T00:00:00Z"],
    ]);
    expect(merged.lag?.run?.gitCommit).toBe("2026");
    expect(merged.browse?.run?.timestamp).toBe("2026-12-07T00:00:00Z");
    // A section that already named its run keeps it.
    expect(merged.scale?.run?.gitCommit).toBe("s");
  });

  it("takes a section's own measuredAt and commit over the file's", () => {
    const previous = file("2026-12-04T00:00:00Z", { scale: { measuredAt: "2026-12-06T00:00:00Z", retrace: "abc" } });
    const merged = mergeResults(previous, file("2026-12-07T00:00:00Z", {}));
    expect(merged.scale?.run).toEqual({
      timestamp: "2026-12-06T00:00:00Z",
      scaleFactor: 1,
      cpuModel: null,
      gitCommit: "abc",
    });
  });

  it("writes the run as it is when there was no file", () => {
    const latest = file("2026-12-07T00:00:00Z", { lag: { p99Ms: 1 } });
    expect(mergeResults(null, latest).lag).toEqual({ p99Ms: 1, run: expect.objectContaining({ scaleFactor: 1 }) });
  });
});
