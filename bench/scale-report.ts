import { gb } from "./scale-disk";
import { GROWTH_LIMIT, NOISE_MS, type ScaleResult, type ScaleStep } from "./scale";

const int = (n: number) => Math.round(n).toLocaleString("en-US");
const ratio = (n: number | null) => (n === null ? "—" : n.toFixed(2));

/** "10M", "500k", "1.5M": a trail size for a column header. */
function size(changes: number): string {
  if (changes >= 1e6) return `${Number((changes / 1e6).toFixed(1))}M`;
  if (changes >= 1e3) return `${Number((changes / 1e3).toFixed(1))}k`;
  return String(changes);
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/** The steps side by side, with the last step's figure over the first's. */
export function scaleTable(scale: ScaleResult): string {
  if (scale.steps.length === 0) return `Scale: not measured${scale.refused ? ` (${scale.refused})` : ""}.`;
  const steps = scale.steps;
  const first = steps[0] as ScaleStep;
  const last = steps.at(-1) as ScaleStep;
  const across = (value: (step: ScaleStep) => number | null) => {
    const [a, b] = [value(first), value(last)];
    return steps.length > 1 && a && b !== null ? ratio(b / a) : "—";
  };
  const chunk = first.ingest?.changes ?? 0;
  const row = (label: string, cell: (step: ScaleStep) => string, value: (step: ScaleStep) => number | null) => [
    label,
    ...steps.map(cell),
    across(value),
  ];
  const streaming = (step: ScaleStep) => step.ingest?.streamingRate ?? null;
  const rows = [
    row(
      `Ingest of the last ${int(chunk)} changes, once streaming`,
      (s) => (streaming(s) === null ? "—" : `${int(streaming(s) ?? 0)}/s`),
      streaming,
    ),
    row(
      "… end to end (worker start-up included)",
      (s) => (s.ingest ? `${int(s.ingest.rate)}/s` : "—"),
      (s) => s.ingest?.rate ?? null,
    ),
    row(
      "Worker peak RSS",
      (s) => `${s.workerPeakRssMb} MB`,
      (s) => s.workerPeakRssMb,
    ),
    row(
      "Store on disk (databases + WAL)",
      (s) => gb(s.disk.store.data + s.disk.store.wal),
      (s) => s.disk.store.data + s.disk.store.wal,
    ),
    row(
      "`vacuum analyze` of the store",
      (s) => `${s.vacuumAnalyzeSeconds} s`,
      (s) => s.vacuumAnalyzeSeconds,
    ),
    ...first.queries.map((q) => {
      const at = (s: ScaleStep) => s.queries.find((x) => x.name === q.name);
      return row(
        `${q.name} (p50 / p95)`,
        (s) => (at(s) ? `${at(s)?.p50Ms} / ${at(s)?.p95Ms} ms` : "—"),
        (s) => at(s)?.p95Ms ?? null,
      );
    }),
    row(
      "First paint of /changes (p50 / max)",
      (s) => (s.firstPaint ? `${s.firstPaint.p50Ms} / ${s.firstPaint.maxMs} ms` : "—"),
      (s) => s.firstPaint?.maxMs ?? null,
    ),
  ];
  const header = ["Scale", ...steps.map((s) => `${size(s.changes)} stored`)];
  header.push(steps.length > 1 ? `${size(last.changes)} / ${size(first.changes)}` : "Ratio");
  return [table(header, rows), "", ...scaleVerdict(scale)].join("\n");
}

/** Whether ingest and browse grow with the trail, in words. */
export function scaleVerdict(scale: ScaleResult): string[] {
  const lines: string[] = [];
  const growth = scale.growth;
  if (scale.refused) lines.push(`Stopped: ${scale.refused}`);
  const [first, last] = [scale.steps[0], scale.steps.at(-1)];
  if (!growth || !first || !last) {
    lines.push("Growth: not measured (it needs both steps).");
    return lines;
  }
  const steps = `at ${size(last.changes)} / at ${size(first.changes)}`;
  const slow = ratio(1 / GROWTH_LIMIT);
  if (growth.ingestGrows === null) lines.push("Ingest rate: not measured at both steps.");
  else {
    lines.push(
      `Ingest rate ${steps}: ${ratio(growth.ingestRatio)}, ` +
        (growth.ingestGrows
          ? `it **slows** as the trail grows (below ${slow} counts as slowing).`
          : `it does not slow as the trail grows (${slow} or more).`),
    );
  }
  const grows = growth.queries.filter((q) => q.grows);
  const rule = `p95 more than ${GROWTH_LIMIT}× and more than ${NOISE_MS} ms slower`;
  lines.push(
    `Browse p95 ${steps}: median ${ratio(growth.medianP95Ratio)}, ` +
      (grows.length === 0
        ? `no query grows with the trail (none of ${growth.queries.length} has a ${rule}).`
        : `**${grows.length} of ${growth.queries.length} queries grow** with the trail (${rule}): ` +
          `${grows.map((q) => `${q.name} ×${q.ratio.toFixed(2)}`).join(", ")}.`),
  );
  return lines;
}
