"use client";

/** The tables page: which tables of a source database are tracked, chosen by schema, with search. */
import Link from "next/link";
import { useMemo, useState } from "react";
import { classes, primaryButton } from "@/components/ui/classes";
import { stacked } from "@/components/ui/stacked-table";
import { ApiError } from "@/lib/api/client";
import type { SourceTableJson } from "@/lib/sources/api-types";
import { fixOf, useDatabase, useSaveTables, useSourceTables } from "./api";
import { ColumnRulesEditor } from "./column-rules";
import { CopyBlock } from "./copy-block";
import { DroppedTables } from "./dropped-tables";
import { NewTablesPanel } from "./new-tables-panel";
import { nameOf, TableRow } from "./table-row";

function Heading({ id }: { id: string }) {
  const detail = useDatabase(id);
  const name = detail.data?.database.name;
  return (
    <header>
      <p className="text-sm text-slate-500">
        <Link href="/databases" className="hover:underline">
          Databases
        </Link>
        {" / "}
        <Link href={`/databases/${id}`} className="hover:underline">
          {name ?? "…"}
        </Link>
      </p>
      <h1 className="mt-1 text-2xl font-semibold tracking-tight">{name ?? "Tables"}</h1>
      <p className="mt-1 text-sm text-slate-500">
        Choose the tables to track. Retrace sets REPLICA IDENTITY FULL on them so updates and deletes carry the whole
        previous row, and gives a table back the identity it had when you stop tracking it.
      </p>
    </header>
  );
}

export function TablePicker({ id, canEdit }: { id: string; canEdit: boolean }) {
  const tablesQuery = useSourceTables(id);
  const save = useSaveTables(id);
  const [selection, setSelection] = useState<Set<string> | null>(null);
  const [filter, setFilter] = useState("");
  // A refused save carries the SQL the tables' owners run (details.fix).
  const saveFix = save.error instanceof ApiError ? fixOf(save.error.details) : null;

  const tables = useMemo(() => tablesQuery.data?.tables ?? [], [tablesQuery.data]);
  const dropped = tablesQuery.data?.dropped ?? [];
  // Until the user changes something, the selection is what is tracked now.
  const selected = selection ?? new Set(tables.filter((t) => t.tracked).map(nameOf));
  const visible = filter ? tables.filter((t) => nameOf(t).toLowerCase().includes(filter.toLowerCase())) : tables;
  const visibleSelected = visible.filter((t) => selected.has(nameOf(t))).length;
  const allVisibleSelected = visible.length > 0 && visibleSelected === visible.length;
  const schemas = groupBySchema(visible);

  function update(next: Set<string>) {
    save.reset();
    setSelection(next);
  }

  function toggle(name: string, on: boolean) {
    const next = new Set(selected);
    if (on) next.add(name);
    else next.delete(name);
    update(next);
  }

  function toggleAll(on: boolean, among: readonly SourceTableJson[] = visible) {
    const next = new Set(selected);
    for (const t of among) {
      if (on) next.add(nameOf(t));
      else next.delete(nameOf(t));
    }
    update(next);
  }

  function onSave() {
    // Only names the source still has are sent; the selection is sorted for a stable request.
    const names = tables.map(nameOf).filter((n) => selected.has(n));
    save.mutate(names, { onSuccess: () => setSelection(null) });
  }

  let body;
  if (tablesQuery.isPending) {
    body = (
      <div role="status" aria-live="polite" className="space-y-2">
        <span className="sr-only">Loading tables…</span>
        {[0, 1, 2, 3].map((i) => (
          <div key={i} className="h-10 animate-pulse rounded-md bg-slate-200/70" aria-hidden />
        ))}
      </div>
    );
  } else if (!tablesQuery.data) {
    body = (
      <div role="alert" className="rounded-lg border border-red-200 bg-red-50 p-6 text-sm text-red-800">
        <p className="font-medium">Could not read the tables of this database.</p>
        <p className="mt-1">{tablesQuery.error?.message}</p>
        <button type="button" onClick={() => void tablesQuery.refetch()} className="mt-3 font-medium underline">
          Try again
        </button>
      </div>
    );
  } else if (tables.length === 0) {
    body = (
      <div className="rounded-lg border border-dashed border-slate-300 bg-white px-6 py-12 text-center">
        <h2 className="text-base font-semibold">No tables in this database yet</h2>
        <p className="mt-1 text-sm text-slate-500">Create tables at the source, then look again.</p>
        <button
          type="button"
          onClick={() => void tablesQuery.refetch()}
          className={classes(
            "mt-4 rounded-md border border-slate-300 bg-white px-3 py-1.5",
            "text-sm font-medium text-slate-700 hover:bg-slate-50",
          )}
        >
          Look again
        </button>
      </div>
    );
  } else {
    body = (
      <div className="space-y-4">
        <div className="flex flex-wrap items-center justify-between gap-3">
          <div className="flex flex-wrap items-center gap-2">
            <input
              id="select-all"
              type="checkbox"
              className="h-4 w-4"
              checked={allVisibleSelected}
              ref={(el) => {
                if (el) el.indeterminate = visibleSelected > 0 && !allVisibleSelected;
              }}
              onChange={(e) => toggleAll(e.target.checked)}
              disabled={!canEdit || visible.length === 0}
            />
            <label htmlFor="select-all" className="text-sm font-medium">
              Select all
            </label>
            <button
              type="button"
              className="text-sm font-medium text-indigo-700 hover:underline disabled:opacity-50"
              onClick={() => toggleAll(false)}
              disabled={!canEdit || visibleSelected === 0}
            >
              Select none
            </button>
            <span className="text-sm text-slate-500">
              ({selected.size} of {tables.length} selected)
            </span>
          </div>
          <div className="flex w-full items-center gap-2 sm:w-auto">
            <label htmlFor="table-filter" className="shrink-0 text-sm text-slate-600">
              Search tables
            </label>
            <input
              id="table-filter"
              type="search"
              value={filter}
              onChange={(e) => setFilter(e.target.value)}
              className="min-w-0 flex-1 rounded-md border border-slate-300 bg-white px-2 py-1 text-sm sm:flex-none"
            />
          </div>
        </div>

        <div className="relative rounded-lg border border-slate-200 bg-white md:overflow-x-auto">
          <table role="table" className={`${stacked.md.table} md:min-w-full`}>
            <thead role="rowgroup" className={`${stacked.md.head} md:border-b md:border-slate-200`}>
              <tr role="row">
                <th role="columnheader" scope="col" className="px-4 py-2">
                  Table
                </th>
                <th role="columnheader" scope="col" className="px-4 py-2">
                  Primary key
                </th>
                <th role="columnheader" scope="col" className="px-4 py-2">
                  Replica identity
                </th>
                <th role="columnheader" scope="col" className="px-4 py-2 text-right">
                  Approx. rows
                </th>
              </tr>
            </thead>
            {schemas.map(([schema, inSchema]) => {
              const schemaSelected = inSchema.filter((t) => selected.has(nameOf(t))).length;
              const schemaId = `schema-${encodeURIComponent(schema)}`;
              return (
                <tbody key={schema} role="rowgroup" className={stacked.md.body} aria-label={`Schema ${schema}`}>
                  <tr role="row" className="block bg-slate-50 md:table-row">
                    <th
                      role="rowheader"
                      scope="colgroup"
                      colSpan={4}
                      className="block px-4 py-2 text-left md:table-cell"
                    >
                      <div className="flex flex-wrap items-center gap-2">
                        <input
                          id={schemaId}
                          type="checkbox"
                          className="h-4 w-4"
                          checked={schemaSelected === inSchema.length}
                          ref={(el) => {
                            if (el) el.indeterminate = schemaSelected > 0 && schemaSelected < inSchema.length;
                          }}
                          onChange={(e) => toggleAll(e.target.checked, inSchema)}
                          disabled={!canEdit}
                          aria-label={`Track every table of schema ${schema}`}
                        />
                        <label htmlFor={schemaId} className="font-mono text-xs font-semibold wrap-anywhere">
                          {schema}
                        </label>
                        <span className="text-xs font-normal text-slate-500">
                          {schemaSelected} of {inSchema.length} selected
                        </span>
                      </div>
                    </th>
                  </tr>
                  {inSchema.map((table) => (
                    <TableRow
                      key={nameOf(table)}
                      id={id}
                      table={table}
                      selected={selected.has(nameOf(table))}
                      onToggle={(on) => toggle(nameOf(table), on)}
                      canEdit={canEdit}
                    />
                  ))}
                </tbody>
              );
            })}
            {visible.length === 0 ? (
              <tbody role="rowgroup" className={stacked.md.body}>
                <tr role="row" className="block md:table-row">
                  <td
                    role="cell"
                    colSpan={4}
                    className="block px-4 py-6 text-center text-sm text-slate-500 md:table-cell"
                  >
                    No table matches “{filter}”.
                  </td>
                </tr>
              </tbody>
            ) : null}
          </table>
        </div>

        {canEdit ? (
          <div className="flex flex-wrap items-center gap-4">
            <button type="button" onClick={onSave} disabled={save.isPending} className={primaryButton}>
              {save.isPending ? "Saving…" : "Save"}
            </button>
            {save.isSuccess ? (
              <p role="status" className="text-sm text-emerald-700">
                <span>
                  Tracking {save.data.tables.length} {save.data.tables.length === 1 ? "table" : "tables"}
                </span>{" "}
                <Link href="/changes" className="font-medium underline">
                  View changes
                </Link>
              </p>
            ) : null}
            {save.error ? (
              <div role="alert" className="w-full space-y-2 text-sm text-red-700">
                <p>{save.error.message}</p>
                {saveFix ? <CopyBlock text={saveFix} /> : null}
              </div>
            ) : null}
          </div>
        ) : (
          <p className="text-sm text-slate-500">Only admins can change which tables are tracked.</p>
        )}
      </div>
    );
  }

  return (
    <div className="space-y-6">
      <Heading id={id} />
      {tablesQuery.data ? <NewTablesPanel id={id} state={tablesQuery.data.newTables} canEdit={canEdit} /> : null}
      {dropped.length > 0 ? <DroppedTables dropped={dropped} /> : null}
      {body}
      <ColumnRulesEditor
        id={id}
        canEdit={canEdit}
        tracked={tablesQuery.data ? tablesQuery.data.tables.filter((t) => t.tracked) : null}
      />
    </div>
  );
}

/** Tables by schema, schemas in name order (the API sends them sorted). */
function groupBySchema(tables: readonly SourceTableJson[]): Array<[string, SourceTableJson[]]> {
  const groups = new Map<string, SourceTableJson[]>();
  for (const t of tables) groups.set(t.schema, [...(groups.get(t.schema) ?? []), t]);
  return [...groups];
}
