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

const STATUS: Record<DatabaseJson["status"], { label: string; dot: string; hint: string }> = {
  pending: { label: "Starting", dot: "bg-sky-400", hint: "Waiting for a worker to start streaming" },
  streaming: { label: "Streaming", dot: "bg-emerald-500", hint: "Changes are being captured" },
  error: { label: "Error", dot: "bg-red-500", hint: "The worker could not stream from this database" },
  paused: { label: "Paused", dot: "bg-slate-400", hint: "Capture is paused; the slot keeps changes until resumed" },
};

export function StatusBadge({ status }: { status: DatabaseJson["status"] }) {
  const { label, dot, hint } = STATUS[status];
  return (
    <span className="inline-flex items-center gap-1.5 text-sm" title={hint}>
      <span className={`h-2 w-2 rounded-full ${dot}`} aria-hidden />
      {label}
    </span>
  );
}
