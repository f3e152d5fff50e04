"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { RelativeTime } from "@/components/changes/time";
import { classes, smallSecondaryButton } from "@/components/ui/classes";

/** The offer to take a table's first baseline stands out; a new one later is an ordinary action. */
const smallPrimaryButton = classes(
  "rounded-md border border-indigo-600 bg-indigo-600 px-3 py-1.5",
  "text-sm font-medium text-white hover:bg-indigo-700 disabled:opacity-60",
);
import { apiFetch } from "@/lib/api/client";
import type { BaselineJson } from "@/lib/changes/as-of-api-types";
import { tableHref, timeTravelKeys, timeTravelQueries } from "@/lib/query/time-travel";

/** The latest baseline of each table of a database ("schema.table"), polled while one runs. */
export function useLatestBaselines(sourceId: string) {
  const query = useQuery(timeTravelQueries.baselines(sourceId));
  const latest = new Map<string, BaselineJson>();
  for (const baseline of query.data?.baselines ?? []) {
    const name = `${baseline.schema}.${baseline.table}`;
    if (!latest.has(name)) latest.set(name, baseline);
  }
  return { latest, loading: query.isPending, error: query.isError ? query.error : null };
}

/** What a baseline is, said once under the tracked tables. */
export function BaselinesNote({ error }: { error: Error | null }) {
  return (
    <div className="border-t border-slate-200 px-4 py-3 text-xs text-slate-500">
      Rows that existed before tracking began are unknown before their first change. A baseline copies a table&apos;s
      current rows into the trail (in chunks, while writes go on), so every row is known from then on.
      {error ? (
        <p role="alert" className="mt-1 text-red-700">
          Could not load baselines: {error.message}
        </p>
      ) : null}
    </div>
  );
}

/**
 * A tracked table's time travel: its latest baseline (progress while it runs), "Take a baseline" for admins, and the
 * table as of now.
 */
export function TableBaseline(props: {
  sourceId: string;
  database: string;
  name: string;
  baseline: BaselineJson | null;
  loading: boolean;
  canEdit: boolean;
  now: number;
}) {
  const { sourceId, name, baseline, canEdit, now } = props;
  const router = useRouter();
  const client = useQueryClient();
  const take = useMutation({
    mutationFn: () =>
      apiFetch<{ baseline: BaselineJson }>(`/api/databases/${encodeURIComponent(sourceId)}/baselines`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ table: name }),
      }),
    onSuccess: () => client.invalidateQueries({ queryKey: timeTravelKeys.baselines(sourceId) }),
  });
  const busy = baseline?.status === "pending" || baseline?.status === "running";
  return (
    <div className="w-full space-y-2" data-testid={`baseline-${name}`}>
      <div className="flex flex-wrap items-center justify-between gap-x-4 gap-y-2">
        <BaselineState baseline={baseline} loading={props.loading} now={now} />
        <div className="flex flex-wrap gap-2">
          <button
            type="button"
            className={smallSecondaryButton}
            onClick={() =>
              router.push(tableHref({ table: name, sourceId, database: props.database }, new Date().toISOString()))
            }
          >
            Table as of now
          </button>
          {canEdit ? (
            <button
              type="button"
              className={baseline === null && !props.loading ? smallPrimaryButton : smallSecondaryButton}
              disabled={busy || take.isPending}
              onClick={() => take.mutate()}
            >
              {baseline?.status === "done" ? "Take a new baseline" : "Take a baseline"}
            </button>
          ) : null}
        </div>
      </div>
      {take.isError ? (
        <p role="alert" className="text-red-700">
          {take.error.message}
        </p>
      ) : null}
    </div>
  );
}

function BaselineState({ baseline, loading, now }: { baseline: BaselineJson | null; loading: boolean; now: number }) {
  if (loading) return <div className="h-4 w-40 animate-pulse rounded bg-slate-100" aria-hidden />;
  if (!baseline) return <p className="text-xs text-slate-500">No baseline yet.</p>;
  if (baseline.status === "failed") {
    return <p className="text-xs text-red-700">Baseline failed: {baseline.error}</p>;
  }
  if (baseline.status === "done") {
    return (
      <p className="text-xs text-slate-500">
        Baseline of {baseline.rowsCopied.toLocaleString("en-US")} rows taken{" "}
        {baseline.finishedAt ? <RelativeTime iso={baseline.finishedAt} now={now} /> : null}.
      </p>
    );
  }
  const total = Math.max(baseline.rowsEstimated ?? 0, baseline.rowsCopied, 1);
  const percent = baseline.status === "pending" ? 0 : Math.min(100, Math.round((baseline.rowsCopied / total) * 100));
  return (
    <div className="min-w-0 grow basis-48 space-y-1">
      <div
        role="progressbar"
        aria-label={`Baseline of ${baseline.schema}.${baseline.table}`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
        className="h-2 w-full max-w-md overflow-hidden rounded-full bg-slate-100"
      >
        <div className={classes("h-full rounded-full bg-indigo-500 transition-all")} style={{ width: `${percent}%` }} />
      </div>
      <p className="text-xs text-slate-500">
        {baseline.status === "pending"
          ? "Waiting for the worker…"
          : `${baseline.rowsCopied.toLocaleString("en-US")} of about ${total.toLocaleString("en-US")} rows copied`}
      </p>
    </div>
  );
}
