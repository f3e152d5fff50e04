"use client";

import { useState, type FormEvent } from "react";
import { classes, inputClass, primaryButton, smallSecondaryButton } from "@/components/ui/classes";
import { ApiError } from "@/lib/api/client";
import type { SourceTableJson } from "@/lib/sources/api-types";
import {
  COLUMN_ACTIONS,
  ColumnRuleSet,
  type ColumnAction,
  type ColumnRule,
  type ColumnRules,
} from "@/lib/sources/column-rules";
import { fieldErrorsOf, useColumnRules, useSaveColumnRules } from "./api";

const ACTION_LABELS: Record<ColumnAction, string> = {
  exclude: "Exclude (never stored)",
  mask: "Mask (stored as a keyed hash)",
};

/**
 * Columns kept out of the trail or masked, by pattern (`schema.table.column`, `table.column`, `*` for anything),
 * and whether an update that changed only excluded columns is recorded at all.
 */
/** The columns of the tracked tables a rule names now ("schema.table.column"); exclude wins as in the worker. */
function matchesOf(rule: ColumnRule, tables: readonly SourceTableJson[]): string[] {
  const set = new ColumnRuleSet({ rules: [rule], skipExcludedOnlyUpdates: false });
  return tables.flatMap((t) =>
    [...(set.forTable(t.schema, t.name, t.columns)?.keys() ?? [])].map((c) => `${t.schema}.${t.name}.${c}`),
  );
}

function Matches({ rule, tables }: { rule: ColumnRule; tables: readonly SourceTableJson[] }) {
  const matches = matchesOf(rule, tables);
  if (matches.length === 0) {
    return <span className="text-xs text-amber-800">Matches no column of a tracked table yet.</span>;
  }
  const shown = matches.slice(0, 3).join(", ");
  return (
    <span className="text-xs text-slate-500 wrap-anywhere">
      Matches {matches.length === 1 ? "1 column" : `${matches.length} columns`}: {shown}
      {matches.length > 3 ? `, and ${matches.length - 3} more` : ""}
    </span>
  );
}

export function ColumnRulesEditor({
  id,
  canEdit,
  tracked,
}: {
  id: string;
  canEdit: boolean;
  /** The tracked tables with their columns, to show what each rule matches (null while unknown). */
  tracked: readonly SourceTableJson[] | null;
}) {
  const query = useColumnRules(id);
  const save = useSaveColumnRules(id);
  const [draft, setDraft] = useState<ColumnRules | null>(null);
  const [pattern, setPattern] = useState("");
  const [action, setAction] = useState<ColumnAction>("exclude");
  const current = draft ?? query.data ?? null;
  const fieldErrors = save.error instanceof ApiError ? fieldErrorsOf(save.error.details) : {};
  const firstFieldError = Object.values(fieldErrors)[0];

  function change(next: ColumnRules) {
    save.reset();
    setDraft(next);
  }

  function add(event: FormEvent) {
    event.preventDefault();
    if (!current || !pattern.trim()) return;
    const rule: ColumnRule = { pattern: pattern.trim(), action };
    change({ ...current, rules: [...current.rules.filter((r) => r.pattern !== rule.pattern), rule] });
    setPattern("");
  }

  let body;
  if (query.isPending) {
    body = (
      <div role="status" aria-label="Loading column rules" className="h-16 animate-pulse rounded bg-slate-200/70" />
    );
  } else if (!current) {
    body = (
      <div role="alert" className="text-sm text-red-700">
        <p>Could not load the column rules: {query.error?.message}</p>
        <button type="button" className="mt-1 font-medium underline" onClick={() => void query.refetch()}>
          Try again
        </button>
      </div>
    );
  } else {
    body = (
      <div className="space-y-4">
        {current.rules.length === 0 ? (
          <p className="text-sm text-slate-500">No rules: every column of the tracked tables is recorded.</p>
        ) : (
          <ul className="divide-y divide-slate-100 rounded-md border border-slate-200" aria-label="Column rules">
            {current.rules.map((rule) => (
              <li key={rule.pattern} className="flex flex-wrap items-center gap-x-3 gap-y-1 px-3 py-2 text-sm">
                <code className="w-full min-w-0 font-mono text-xs wrap-anywhere sm:w-auto sm:flex-1">
                  {rule.pattern}
                </code>
                <span
                  className={classes(
                    "rounded px-1.5 py-0.5 text-xs",
                    rule.action === "exclude" ? "bg-slate-100 text-slate-700" : "bg-indigo-50 text-indigo-800",
                  )}
                >
                  {ACTION_LABELS[rule.action]}
                </span>
                {tracked ? (
                  <span className="order-last w-full">
                    <Matches rule={rule} tables={tracked} />
                  </span>
                ) : null}
                {canEdit ? (
                  <button
                    type="button"
                    className={smallSecondaryButton}
                    aria-label={`Remove the rule for ${rule.pattern}`}
                    onClick={() =>
                      change({ ...current, rules: current.rules.filter((r) => r.pattern !== rule.pattern) })
                    }
                  >
                    Remove
                  </button>
                ) : null}
              </li>
            ))}
          </ul>
        )}
        {canEdit ? (
          <>
            <form onSubmit={add} className="flex flex-wrap items-end gap-2">
              <div className="min-w-0 flex-1 basis-56">
                <label htmlFor="column-pattern" className="block text-sm font-medium">
                  Column pattern
                </label>
                <input
                  id="column-pattern"
                  value={pattern}
                  onChange={(e) => setPattern(e.target.value)}
                  placeholder="*.updated_at or public.users.password"
                  className={classes(inputClass, "mt-1 font-mono")}
                  autoComplete="off"
                  spellCheck={false}
                />
              </div>
              <div>
                <label htmlFor="column-action" className="block text-sm font-medium">
                  Action
                </label>
                <select
                  id="column-action"
                  value={action}
                  onChange={(e) => setAction(e.target.value as ColumnAction)}
                  className={classes(inputClass, "mt-1")}
                >
                  {COLUMN_ACTIONS.map((a) => (
                    <option key={a} value={a}>
                      {ACTION_LABELS[a]}
                    </option>
                  ))}
                </select>
              </div>
              <button type="submit" className={smallSecondaryButton} disabled={!pattern.trim()}>
                Add rule
              </button>
            </form>
            <label className="flex items-start gap-2 text-sm">
              <input
                type="checkbox"
                className="mt-0.5 h-4 w-4 shrink-0"
                checked={current.skipExcludedOnlyUpdates}
                onChange={(e) => change({ ...current, skipExcludedOnlyUpdates: e.target.checked })}
              />
              <span>
                Skip updates that changed only excluded columns
                <span className="block text-xs text-slate-500">
                  Such an update (say, of <code>updated_at</code> alone) leaves no change in the trail.
                </span>
              </span>
            </label>
            <div className="flex flex-wrap items-center gap-3">
              <button
                type="button"
                className={primaryButton}
                disabled={save.isPending || draft === null}
                onClick={() => save.mutate(current, { onSuccess: () => setDraft(null) })}
              >
                {save.isPending ? "Applying…" : "Apply column rules"}
              </button>
              {save.isSuccess && draft === null ? (
                <p role="status" className="text-sm text-emerald-700">
                  Saved. Changes captured from now on follow these rules.
                </p>
              ) : null}
              {save.error ? (
                <p role="alert" className="text-sm text-red-700">
                  {firstFieldError ?? save.error.message}
                </p>
              ) : null}
            </div>
          </>
        ) : (
          <p className="text-sm text-slate-500">Only admins can change the column rules.</p>
        )}
      </div>
    );
  }

  return (
    <section aria-labelledby="columns-heading" className="space-y-3 rounded-lg border border-slate-200 bg-white p-4">
      <div>
        <h2 id="columns-heading" className="text-base font-semibold">
          Columns
        </h2>
        <p className="mt-1 text-sm text-slate-600">
          Keep secrets and noise out of the trail. An excluded column never reaches Retrace&apos;s store; a masked one
          is stored as a keyed hash, so you still see when it changed and which rows share a value. Patterns are{" "}
          <code className="text-xs">schema.table.column</code> or <code className="text-xs">table.column</code>;{" "}
          <code className="text-xs">*</code> matches anything. They apply to changes captured after saving.
        </p>
      </div>
      {body}
    </section>
  );
}
