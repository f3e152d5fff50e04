/**
 * bench/results.json keeps the newest figures of every workload, whichever run measured them: a run with `--only`
 * replaces the sections it measured and keeps the others as they were. Each section says which run it came from
 * (`run`: when, at what scale, on which CPU and commit), so figures from different runs are never taken for one.
 */

/** Which run measured a section. */
export type RunStamp = { timestamp: string; scaleFactor: number; cpuModel: string | null; gitCommit: string | null };

type Section = { run?: RunStamp } & Record<string, unknown>;
type Workload = Section & { name: string };

export type ResultsFile = {
  timestamp: string;
  scaleFactor: number;
  workloads: string[];
  machine?: { cpuModel?: string; gitCommit?: string | null } | null;
  throughput: Workload[];
  lag: Section | null;
  browse: Section | null;
  scale: Section | null;
} & Record<string, unknown>;

/** A results file's own run, for sections written before sections carried one. */
function stampOf(file: ResultsFile): RunStamp {
  return {
    timestamp: file.timestamp,
    scaleFactor: file.scaleFactor,
    cpuModel: file.machine?.cpuModel ?? null,
    gitCommit: file.machine?.gitCommit ?? null,
  };
}

/**
 * A section with its run: its own when it has one; else the one it names itself (the scale section's `measuredAt`
 * and `retrace` commit, on a CPU the file does not record); else the file's.
 */
function stamped<T extends Section>(section: T, run: RunStamp): T {
  if (section.run) return section;
  if (typeof section.measuredAt === "string") {
    const gitCommit = typeof section.retrace === "string" ? section.retrace : null;
    return { ...section, run: { ...run, timestamp: section.measuredAt, cpuModel: null, gitCommit } };
  }
  return { ...section, run };
}

/** `latest` (this run's file) with what `previous` measured that this run did not. */
export function mergeResults(previous: ResultsFile | null, latest: ResultsFile): ResultsFile {
  const run = stampOf(latest);
  const merged: ResultsFile = {
    ...latest,
    throughput: latest.throughput.map((w) => stamped(w, run)),
    lag: latest.lag && stamped(latest.lag, run),
    browse: latest.browse && stamped(latest.browse, run),
    scale: latest.scale && stamped(latest.scale, run),
  };
  if (!previous) return merged;
  const before = stampOf(previous);
  const measured = new Set(latest.throughput.map((w) => w.name));
  const kept = (previous.throughput ?? []).filter((w) => !measured.has(w.name)).map((w) => stamped(w, before));
  merged.throughput = [...merged.throughput, ...kept].sort((a, b) => a.name.localeCompare(b.name));
  for (const key of ["lag", "browse", "scale"] as const) {
    const old = previous[key];
    if (merged[key] === null && old) merged[key] = stamped(old, before);
  }
  return merged;
}
