"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useDeferredValue, useId, useState } from "react";
import { classes } from "@/components/ui/classes";
import { trailQueries } from "@/lib/query/trail";
import { filterInputClass, filterLabelClass } from "./text-filter";

const MAX_SUGGESTIONS = 8;

/**
 * The table filter: type-ahead over the tables the trail holds (in the header's environment and the database
 * filter's database), as `schema.table`.
 * Picking a suggestion applies it; Enter or leaving the field applies what is typed (`items` or `public.items`,
 * matched without regard to case by the API).
 */
export function TableFilter({
  value,
  environment,
  database,
  onApply,
}: {
  value: string;
  environment: string;
  database: string;
  onApply: (table: string) => void;
}) {
  const listId = useId();
  const [draft, setDraft] = useState(value);
  const [applied, setApplied] = useState(value);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  if (value !== applied) {
    setApplied(value);
    setDraft(value);
  }

  const q = useDeferredValue(draft.trim());
  const query = useQuery({
    ...trailQueries.tables(q, environment, database),
    enabled: open,
    placeholderData: keepPreviousData,
  });
  const names = [...new Set((query.data?.tables ?? []).map((t) => `${t.schema}.${t.table}`))].slice(0, MAX_SUGGESTIONS);

  const apply = (table: string) => {
    const trimmed = table.trim();
    setDraft(trimmed);
    setOpen(false);
    setActive(-1);
    if (trimmed === applied) return;
    setApplied(trimmed);
    onApply(trimmed);
  };

  const showList = open && names.length > 0;
  return (
    <div className="relative space-y-1">
      <label htmlFor="filter-table" className={filterLabelClass}>
        Table
      </label>
      <input
        id="filter-table"
        type="search"
        role="combobox"
        aria-expanded={showList}
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={showList && active >= 0 ? `${listId}-${active}` : undefined}
        className={filterInputClass}
        placeholder="items or public.items"
        value={draft}
        autoComplete="off"
        spellCheck={false}
        onFocus={() => setOpen(true)}
        onChange={(event) => {
          setDraft(event.target.value);
          setOpen(true);
          setActive(-1);
        }}
        // A click on a suggestion lands before the blur (onMouseDown below), so this applies the typed text only.
        onBlur={() => apply(draft)}
        onKeyDown={(event) => {
          if (event.key === "ArrowDown" || event.key === "ArrowUp") {
            event.preventDefault();
            setOpen(true);
            const step = event.key === "ArrowDown" ? 1 : -1;
            setActive((current) => Math.max(-1, Math.min(names.length - 1, current + step)));
          } else if (event.key === "Enter") {
            event.preventDefault();
            apply(showList && active >= 0 ? (names[active] ?? draft) : draft);
          } else if (event.key === "Escape") {
            setOpen(false);
          }
        }}
      />
      {showList ? (
        <ul
          id={listId}
          role="listbox"
          aria-label="Tables"
          className={classes(
            "absolute z-20 mt-1 max-h-64 w-full overflow-auto rounded-md border border-slate-200 bg-white py-1",
            "text-sm shadow-lg",
          )}
        >
          {names.map((name, index) => (
            <li
              key={name}
              id={`${listId}-${index}`}
              role="option"
              aria-selected={index === active}
              className={classes(
                "cursor-pointer px-3 py-1.5 font-mono wrap-anywhere",
                index === active ? "bg-indigo-50 text-indigo-900" : "text-slate-800 hover:bg-slate-50",
              )}
              onMouseDown={(event) => {
                event.preventDefault();
                apply(name);
              }}
            >
              {name}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
