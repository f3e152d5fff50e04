import { BROWSE_P95_TARGET_MS, FIRST_PAINT_TARGET_MS, type BrowseResult } from "./browse";
import type { LagResult } from "./lag";
import { LAG_P99_TARGET_MS, LAG_POLL_MS, LAG_RATE } from "./lag";
import type { MachineDescription } from "./servers";
import { BASELINE_DRAINS, RATIO_TARGET, RSS_TARGET_MB, type ThroughputResult } from "./throughput";

const int = (n: number) => Math.round(n).toLocaleString("en-US");
const rate = (n: number) => `${int(n)}/s`;

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

function throughputVerdict(r: ThroughputResult): string {
  if (r.targetsMet) return "yes";
  const misses: string[] = [];
  if (r.ratio === null) misses.push("no result");
  else if (r.ratio < RATIO_TARGET) misses.push(`ratio < ${RATIO_TARGET}`);
  if (r.rssTargetMb !== null && (r.peakRssMb === null || r.peakRssMb > r.rssTargetMb))
    misses.push(`RSS > ${r.rssTargetMb} MB`);
  if (misses.length === 0 && r.errors.length > 0) misses.push("errors");
  return `**no** (${misses.join(", ")})`;
}

export function throughputTable(results: ThroughputResult[]): string {
  return table(
    [
      "Workload",
      "Changes",
      "pg_recvlogical (median; all drains)",
      "Retrace (end to end)",
      `Ratio (target ≥ ${RATIO_TARGET})`,
      "Retrace after start-up",
      "Worker peak RSS",
      "Targets met",
    ],
    results.map((r) => [
      r.label,
      int(r.changes),
      r.baseline ? `${rate(r.baseline.rate)} (${r.baseline.drains.map((d) => int(d.rate)).join(", ")})` : "failed",
      r.retrace ? `${rate(r.retrace.rate)}${r.retrace.completed ? "" : " (timed out)"}` : "failed",
      r.ratio === null ? "—" : r.ratio.toFixed(2),
      r.retrace?.streamingRate
        ? `${rate(r.retrace.streamingRate)} (${r.retrace.startupSeconds?.toFixed(1)} s start-up)`
        : "—",
      r.peakRssMb === null
        ? "—"
        : `${r.peakRssMb} MB${r.rssTargetMb === null ? "" : ` (target ≤ ${RSS_TARGET_MB} MB)`}`,
      throughputVerdict(r),
    ]),
  );
}

export function lagTable(lag: LagResult): string {
  const ms = (n: number | null) => (n === null ? "—" : `${n < 10 ? n.toFixed(1) : int(n)} ms`);
  const misses: string[] = [];
  if (lag.p99Ms === null || lag.p99Ms >= LAG_P99_TARGET_MS) misses.push(`p99 ≥ ${LAG_P99_TARGET_MS} ms`);
  if (lag.achievedRate < LAG_RATE * 0.95) misses.push("writer below rate");
  if (misses.length === 0 && lag.errors.length > 0) misses.push("errors");
  return table(
    [
      "Steady load",
      "Changes",
      "Achieved rate",
      "p50 (commit → visible)",
      `p99 (target < ${LAG_P99_TARGET_MS} ms)`,
      "max",
      "p50, last tenth",
      "Worker peak RSS",
      "Targets met",
    ],
    [
      [
        `${int(lag.targetRate)} single-row tx/s for ${lag.seconds} s`,
        int(lag.changes),
        rate(lag.achievedRate),
        ms(lag.p50Ms),
        ms(lag.p99Ms),
        ms(lag.maxMs),
        ms(lag.lastTenthP50Ms),
        lag.peakRssMb === null ? "—" : `${lag.peakRssMb} MB`,
        lag.targetsMet ? "yes" : `**no** (${misses.join(", ")})`,
      ],
    ],
  );
}

export function machineLine(machine: MachineDescription): string {
  return (
    `${machine.cpuCount} × ${machine.cpuModel}, ${machine.totalMemoryGiB} GiB RAM, ${machine.os}, ` +
    `Node ${machine.node}, ${machine.postgres}, ${machine.pgRecvlogical}` +
    (machine.gitCommit
      ? `, Retrace ${machine.gitCommit}${machine.uncommittedIngestChanges ? " + uncommitted worker/lib edits" : ""}`
      : "")
  );
}

export const NOTES = [
  `Rates are changes per second. pg_recvlogical drains ${BASELINE_DRAINS} more pgoutput slots ` +
    "holding the same changes, one after the other, before Retrace runs " +
    "(same plugin, proto_version=2, same publication, output to /dev/null): " +
    "the cost of decoding and shipping alone. Its rate is the median drain; the ratio uses it.",
  "Retrace is end to end: from spawning the worker process (start-up, migrations and connecting included) " +
    "until the store has committed every change, with its checkpoint, indexes and fsync'd commits. " +
    'The ratio and its target use this rate. "After start-up" leaves out the time until the worker reported ' +
    "the source as streaming (loading the worker bundle, migrations, lease, connecting; the bundle is built before, " +
    "untimed, as `retrace start` builds it before spawning): what a long-running worker sustains; informative only.",
  "Lag is source commit (committed_at, from the COMMIT message) → the first query of the store that returns " +
    `the change: a watcher queries the store every ${LAG_POLL_MS} ms, each query a new snapshot ` +
    "as each API request is, so a change counts from the moment its store transaction committed, " +
    "rounded up by the poll interval and the query's time (never less than the real lag). " +
    "Not an HTTP round trip. Both servers share this machine's clock.",
];

export function browseTable(browse: BrowseResult): string {
  const ingest = browse.ingest ? `, stored by the worker at ${rate(browse.ingest.rate)}` : "";
  const sealing = browse.sealing
    ? ` Then the production database's ${int(browse.sealing.changes)} changes not sealed yet were sealed in ` +
      `${browse.sealing.seconds} s (${rate(browse.sealing.rate)}, the sealer at full duty; time travel walks the ` +
      "sealed keys)."
    : "";
  const paint = browse.firstPaint
    ? `First paint of /changes in Chromium: p50 ${browse.firstPaint.p50Ms} ms, max ${browse.firstPaint.maxMs} ms ` +
      `(target ≤ ${FIRST_PAINT_TARGET_MS} ms)`
    : "First paint: not measured";
  const many = browse.manyPartitions;
  const rows = browse.queries.map((q) => {
    const again = many?.queries.find((other) => other.name === q.name);
    const worst = Math.max(q.p95Ms, again?.p95Ms ?? 0);
    return [
      q.name,
      `\`${q.path.length > 70 ? `${q.path.slice(0, 67)}…` : q.path}\``,
      int(q.rows),
      `${q.p50Ms} ms`,
      `${q.p95Ms} ms`,
      ...(many ? [again ? `${again.p50Ms} / ${again.p95Ms} ms` : "not measured"] : []),
      worst <= BROWSE_P95_TARGET_MS ? "yes" : "**no**",
    ];
  });
  const header = ["Query", "Request", "Rows", "p50", `p95 (target ≤ ${BROWSE_P95_TARGET_MS} ms)`];
  if (many) header.push(`p50 / p95 with ${int(many.partitions)} partitions`);
  const manyPaint = many?.firstPaint
    ? `; with ${int(many.partitions)} partitions: p50 ${many.firstPaint.p50Ms} ms, max ${many.firstPaint.maxMs} ms`
    : "";
  return [
    `Browse: ${int(browse.changes)} changes${ingest}.${sealing}`,
    "",
    table([...header, "Met"], rows),
    "",
    paint + manyPaint,
  ].join("\n");
}
