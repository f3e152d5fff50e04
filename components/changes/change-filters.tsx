"use client";

import { useEffect, useState } from "react";
import { OPERATIONS, type FilterKey, type FilterValues } from "@/lib/changes/filters";
import { OPERATION_LABELS } from "./operation-badge";

const ENVIRONMENTS = [
  { value: "production", label: "Production" },
  { value: "staging", label: "Staging" },
  { value: "test", label: "Test" },
];

const inputClass =
  "block w-full rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm shadow-sm focus:border-indigo-500";

/** `onChange` should be stable (useCallback): text filters debounce against it. */
type Props = { filters: FilterValues; onChange: (key: FilterKey, value: string) => void };

export function ChangeFilters({ filters, onChange }: Props) {
  const environment = filters.environment ?? "";
  const knownEnvironment = environment === "" || ENVIRONMENTS.some((e) => e.value === environment);
  return (
    <form
      role="search"
      aria-label="Filter changes"
      // A phone: the two selects side by side, then each text filter on a row of its own (placeholder readable).
      className="grid grid-cols-2 gap-3 lg:grid-cols-4"
      onSubmit={(event) => event.preventDefault()}
    >
      <div className="space-y-1">
        <label htmlFor="filter-operation" className="block text-xs font-medium text-slate-600">
          Operation
        </label>
        <select
          id="filter-operation"
          className={inputClass}
          value={filters.operation ?? ""}
          onChange={(event) => onChange("operation", event.target.value)}
        >
          <option value="">All</option>
          {OPERATIONS.map((operation) => (
            <option key={operation} value={operation}>
              {OPERATION_LABELS[operation]}
            </option>
          ))}
        </select>
      </div>
      <TextFilter
        id="filter-table"
        label="Table"
        placeholder="items or public.items"
        filterKey="table"
        value={filters.table ?? ""}
        onChange={onChange}
      />
      <TextFilter
        id="filter-primary-key"
        label="Primary key"
        placeholder="exact value"
        filterKey="primaryKey"
        value={filters.primaryKey ?? ""}
        onChange={onChange}
      />
      <div className="space-y-1">
        <label htmlFor="filter-environment" className="block text-xs font-medium text-slate-600">
          Environment
        </label>
        <select
          id="filter-environment"
          className={inputClass}
          value={environment}
          onChange={(event) => onChange("environment", event.target.value)}
        >
          <option value="">All</option>
          {ENVIRONMENTS.map((e) => (
            <option key={e.value} value={e.value}>
              {e.label}
            </option>
          ))}
          {knownEnvironment ? null : <option value={environment}>{environment}</option>}
        </select>
      </div>
    </form>
  );
}

const DEBOUNCE_MS = 600;

/**
 * A text filter that applies on Enter, on blur, or after a pause in typing, so the URL (and
 * the query) does not change on every keystroke.
 */
function TextFilter({
  id,
  label,
  placeholder,
  filterKey,
  value,
  onChange,
}: {
  id: string;
  label: string;
  placeholder: string;
  filterKey: FilterKey;
  value: string;
  onChange: Props["onChange"];
}) {
  const [draft, setDraft] = useState(value);
  const [applied, setApplied] = useState(value);
  // The URL changed from elsewhere (back button, "Clear filters"): show what it says.
  if (value !== applied) {
    setApplied(value);
    setDraft(value);
  }

  const apply = (next: string) => {
    const trimmed = next.trim();
    if (trimmed === applied) return;
    setApplied(trimmed);
    onChange(filterKey, trimmed);
  };

  useEffect(() => {
    if (draft.trim() === applied) return;
    const timer = setTimeout(() => {
      setApplied(draft.trim());
      onChange(filterKey, draft.trim());
    }, DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [draft, applied, filterKey, onChange]);

  return (
    <div className="order-1 col-span-2 space-y-1 sm:order-none sm:col-span-1">
      <label htmlFor={id} className="block text-xs font-medium text-slate-600">
        {label}
      </label>
      <input
        id={id}
        type="search"
        className={inputClass}
        placeholder={placeholder}
        value={draft}
        autoComplete="off"
        spellCheck={false}
        onChange={(event) => setDraft(event.target.value)}
        onBlur={() => apply(draft)}
        onKeyDown={(event) => {
          if (event.key === "Enter") {
            event.preventDefault();
            apply(draft);
          }
        }}
      />
    </div>
  );
}
