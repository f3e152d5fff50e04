import type { DatabaseJson } from "@/lib/sources/api-types";

const ENVIRONMENT_STYLES: Record<string, string> = {
  production: "bg-rose-50 text-rose-800 ring-rose-200",
  staging: "bg-amber-50 text-amber-800 ring-amber-200",
  test: "bg-slate-100 text-slate-700 ring-slate-200",
};

export function environmentLabel(environment: string): string {
  return environment.charAt(0).toUpperCase() + environment.slice(1);
}

export function EnvironmentBadge({ environment }: { environment: string }) {
  const style = ENVIRONMENT_STYLES[environment] ?? "bg-indigo-50 text-indigo-800 ring-indigo-200";
  return (
    <span className={`inline-flex rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${style}`}>
      {environmentLabel(environment)}
    </span>
  );
}

type CaptureState = DatabaseJson["health"]["state"];

/** A source's capture state (lib/sources/health.ts), as a dot and a word; the reason is shown beside it. */
const STATES: Record<CaptureState, { label: string; dot: string; hint: string }> = {
  live: { label: "Streaming", dot: "bg-emerald-500", hint: "Changes are being captured" },
  starting: { label: "Starting", dot: "bg-sky-400", hint: "A worker is connecting to this database" },
  lagging: { label: "Lagging", dot: "bg-amber-500", hint: "Changes are captured, but more than a minute late" },
  failing: {
    label: "Error",
    dot: "bg-red-500",
    hint: "The worker cannot stream from this database; it keeps retrying",
  },
  paused: { label: "Paused", dot: "bg-slate-400", hint: "Capture is paused; the slot keeps changes until resumed" },
  no_worker: { label: "No worker", dot: "bg-amber-500", hint: "No Retrace worker is streaming this database" },
  removed: {
    label: "Removed",
    dot: "bg-slate-300",
    hint: "Removed from Retrace; its captured changes are kept and can still be searched",
  },
};

export function StatusBadge({ state }: { state: CaptureState }) {
  const { label, dot, hint } = STATES[state];
  return (
    <span className="inline-flex items-center gap-1.5 text-sm" title={hint}>
      <span className={`h-2 w-2 rounded-full ${dot}`} aria-hidden />
      {label}
    </span>
  );
}
