"use client";

import { useState } from "react";
import { ListError, ListLoading } from "@/components/team/states";
import { classes, primaryButton, secondaryButton } from "@/components/ui/classes";
import { ApiError } from "@/lib/api/client";
import type { RetentionJson } from "@/lib/retention/api-types";
import { AddTable } from "./add-table";
import { useRetention, useSaveRetention } from "./api";
import { draftInvalid, draftOf, rulesOf, sameRules, type Draft } from "./draft";
import { RetentionImpact } from "./impact";
import { KeepChoice, type Keep } from "./keep-choice";

const emptyClass = classes(
  "rounded-lg border border-dashed border-slate-300 bg-white",
  "px-6 py-8 text-center text-sm text-slate-500",
);
const removeButton = "text-sm font-medium text-red-700 hover:underline disabled:opacity-60";

/** The retention settings: loads them, then the form (admins) or the same form, read only (viewers). */
export function RetentionSettingsView({ canEdit }: { canEdit: boolean }) {
  const query = useRetention();
  const [saved, setSaved] = useState<string | null>(null);
  if (query.isPending) return <ListLoading label="Loading the retention settings…" />;
  if (!query.data) {
    return (
      <ListError what="the retention settings" message={query.error?.message} retry={() => void query.refetch()} />
    );
  }
  return (
    <RetentionEditor
      // A save (here or elsewhere) starts the form afresh from what is stored.
      key={JSON.stringify(query.data.rules)}
      settings={query.data}
      canEdit={canEdit}
      saved={saved}
      onSaved={setSaved}
    />
  );
}

function RetentionEditor({
  settings,
  canEdit,
  saved,
  onSaved,
}: {
  settings: RetentionJson;
  canEdit: boolean;
  saved: string | null;
  onSaved: (message: string | null) => void;
}) {
  const [draft, setDraft] = useState<Draft>(() => draftOf(settings));
  const save = useSaveRetention();
  const rules = rulesOf(draft);
  const changed = !sameRules(rules, settings.rules);
  const invalid = draftInvalid(draft);
  const disabled = !canEdit || save.isPending;

  const setEnvironment = (name: string, keep: Keep) => {
    onSaved(null);
    setDraft((d) => ({ ...d, environments: d.environments.map((e) => (e.name === name ? { ...e, keep } : e)) }));
  };
  const setTable = (environment: string, table: string, keep: Keep | null) => {
    onSaved(null);
    setDraft((d) => ({
      ...d,
      tables: keep
        ? d.tables.map((t) => (t.environment === environment && t.table === table ? { ...t, keep } : t))
        : d.tables.filter((t) => !(t.environment === environment && t.table === table)),
    }));
  };
  const addTable = (environment: string, table: string) => {
    onSaved(null);
    const inherited = draft.environments.find((e) => e.name === environment)?.keep;
    const keep: Keep = inherited ? { days: inherited.days, archive: inherited.archive } : { days: 30, archive: false };
    setDraft((d) => ({ ...d, tables: [...d.tables, { environment, table, keep }] }));
  };

  function onSave() {
    if (invalid || !changed) return;
    save.mutate(rules, { onSuccess: () => onSaved("Retention saved. The worker applies it within the hour.") });
  }

  const error = save.error instanceof ApiError ? save.error : null;
  return (
    <div className="space-y-6">
      <div className="space-y-4">
        {draft.environments.length === 0 ? (
          <p className={emptyClass}>No environments yet: connect a database, then set how long its changes are kept.</p>
        ) : null}
        {draft.environments.map((environment) => {
          const tables = draft.tables.filter((t) => t.environment === environment.name);
          return (
            <section
              key={environment.name}
              aria-labelledby={`env-${environment.name}`}
              className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm sm:p-6"
            >
              <div className="flex flex-wrap items-center justify-between gap-3">
                <h2 id={`env-${environment.name}`} className="text-base font-semibold">
                  {environment.name}
                </h2>
                <KeepChoice
                  id={`env-${environment.name}`}
                  subject={environment.name}
                  value={environment.keep}
                  disabled={disabled}
                  onChange={(keep) => setEnvironment(environment.name, keep)}
                />
              </div>
              <div className="mt-4 space-y-3 border-t border-slate-100 pt-4">
                <h3 className="text-sm font-medium text-slate-700">Tables with their own rule</h3>
                {tables.length === 0 ? (
                  <p className="text-sm text-slate-500">None: every table follows {environment.name}&apos;s rule.</p>
                ) : (
                  <ul className="space-y-3">
                    {tables.map((t) => (
                      <li key={t.table} className="flex flex-wrap items-center justify-between gap-3">
                        <span className="min-w-0 font-mono text-sm wrap-anywhere">{t.table}</span>
                        <div className="flex flex-wrap items-center gap-3">
                          <KeepChoice
                            id={`table-${environment.name}-${t.table}`}
                            subject={`${t.table} (${environment.name})`}
                            value={t.keep}
                            disabled={disabled}
                            onChange={(keep) => setTable(environment.name, t.table, keep)}
                          />
                          {canEdit ? (
                            <button
                              type="button"
                              className={removeButton}
                              disabled={disabled}
                              aria-label={`Remove the rule of ${t.table} in ${environment.name}`}
                              onClick={() => setTable(environment.name, t.table, null)}
                            >
                              Remove
                            </button>
                          ) : null}
                        </div>
                      </li>
                    ))}
                  </ul>
                )}
                {canEdit ? (
                  <AddTable
                    environment={environment.name}
                    taken={tables.map((t) => t.table)}
                    onAdd={(table) => addTable(environment.name, table)}
                  />
                ) : null}
                <p className="text-xs text-slate-500">
                  A table&apos;s own rule applies to the changes stored after it is saved; earlier ones follow the
                  environment&apos;s.
                </p>
              </div>
            </section>
          );
        })}
        {canEdit ? (
          <div className="flex flex-wrap items-center gap-3">
            <button
              type="button"
              onClick={onSave}
              disabled={save.isPending || invalid || !changed}
              className={classes(primaryButton, "w-full sm:w-auto")}
            >
              {save.isPending ? "Saving…" : "Save retention"}
            </button>
            <button
              type="button"
              disabled={save.isPending || !changed}
              className={classes(secondaryButton, "w-full sm:w-auto")}
              onClick={() => {
                save.reset();
                setDraft(draftOf(settings));
              }}
            >
              Discard changes
            </button>
            {error ? (
              <p role="alert" className="text-sm text-red-700">
                Not saved: {error.message}
              </p>
            ) : null}
            {saved && !changed ? (
              <p role="status" className="text-sm text-emerald-700">
                {saved}
              </p>
            ) : null}
          </div>
        ) : (
          <p className="text-sm text-slate-500">Only admins can change retention.</p>
        )}
      </div>
      <RetentionImpact rules={rules} changed={changed} />
    </div>
  );
}
