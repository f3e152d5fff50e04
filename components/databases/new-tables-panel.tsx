"use client";

import type { SourceTablesResponse } from "@/lib/sources/api-types";
import { useSetTrackNewTables } from "./api";
import { CopyBlock } from "./copy-block";

/**
 * "Track new tables automatically": on, a table created at the source later is tracked from its first row with
 * REPLICA IDENTITY FULL (an event trigger, which only a superuser may create). Where Retrace's role may not, the
 * SQL a superuser runs is shown, and the panel says once it is in place.
 */
export function NewTablesPanel({
  id,
  state,
  canEdit,
}: {
  id: string;
  state: SourceTablesResponse["newTables"];
  canEdit: boolean;
}) {
  const toggle = useSetTrackNewTables(id);
  const enabled = toggle.isPending ? (toggle.variables ?? state.enabled) : state.enabled;
  return (
    <section aria-labelledby="new-tables-heading" className="rounded-lg border border-slate-200 bg-white p-4">
      <div className="flex items-start gap-3">
        <input
          id="track-new-tables"
          type="checkbox"
          className="mt-0.5 h-4 w-4 shrink-0"
          checked={enabled}
          disabled={!canEdit || toggle.isPending}
          onChange={(e) => toggle.mutate(e.target.checked)}
        />
        <div className="min-w-0 space-y-1 text-sm">
          <label id="new-tables-heading" htmlFor="track-new-tables" className="font-medium">
            Track new tables automatically
          </label>
          <p className="text-slate-600">
            A table created at the source later is tracked from its first row, with REPLICA IDENTITY FULL.
          </p>
          {state.enabled && state.active ? (
            <p role="status" className="text-emerald-700">
              On: new tables are tracked as they are created.
            </p>
          ) : null}
          {state.enabled && !state.active && state.sql ? (
            <div className="space-y-1">
              <p role="status" className="text-amber-800">
                Not in place yet: only a superuser may create the event trigger that does it. Run this at the source as
                a superuser (or your host&apos;s admin role, where it may create event triggers), then look again.
              </p>
              <CopyBlock text={state.sql} />
            </div>
          ) : null}
          {!state.enabled && state.dropSql ? (
            <div className="space-y-1">
              <p role="status" className="text-amber-800">
                Off, but the event trigger is still in place at the source (Retrace&apos;s role may not drop it): new
                tables are still tracked until a superuser runs this.
              </p>
              <CopyBlock text={state.dropSql} />
            </div>
          ) : null}
          {toggle.error ? (
            <p role="alert" className="text-red-700">
              {toggle.error.message}
            </p>
          ) : null}
        </div>
      </div>
    </section>
  );
}
