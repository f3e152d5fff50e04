"use client";

import { useQuery } from "@tanstack/react-query";
import { classes } from "@/components/ui/classes";
import { contextPairs, contextParam, typedValue } from "@/lib/changes/context-filter";
import type { FilterValues } from "@/lib/changes/filters";
import { describeRange } from "@/lib/changes/time-range";
import { databaseQueries } from "@/lib/query/databases";
import { operationsOf } from "./change-filters";
import { OPERATION_LABELS } from "./operation-badge";

type Chip = { id: string; label: string; value: string; clear: FilterValues };

/** Every active filter as a chip (the environment is the header's): what a shared link filters by is visible. */
function chipsOf(filters: FilterValues, sourceName: (id: string) => string): Chip[] {
  const chips: Chip[] = [];
  const operations = operationsOf(filters.operation);
  if (filters.operation) {
    const value = operations.length ? operations.map((o) => OPERATION_LABELS[o]).join(", ") : filters.operation;
    chips.push({ id: "operation", label: "Operation", value, clear: { operation: "" } });
  }
  const time = describeRange(filters);
  if (time) chips.push({ id: "time", label: "Time", value: time, clear: { from: "", to: "" } });
  if (filters.table) chips.push({ id: "table", label: "Table", value: filters.table, clear: { table: "" } });
  if (filters.primaryKey) {
    chips.push({ id: "primaryKey", label: "Primary key", value: filters.primaryKey, clear: { primaryKey: "" } });
  }
  if (filters.database) {
    chips.push({ id: "database", label: "Database", value: filters.database, clear: { database: "" } });
  }
  if (filters.sourceId) {
    chips.push({ id: "sourceId", label: "Source", value: sourceName(filters.sourceId), clear: { sourceId: "" } });
  }
  if (filters.field) chips.push({ id: "field", label: "Changed field", value: filters.field, clear: { field: "" } });
  const pairs = contextPairs(filters.context);
  if (pairs === null) {
    chips.push({ id: "context", label: "Context", value: filters.context ?? "", clear: { context: "" } });
  } else {
    for (const pair of pairs) {
      const rest = contextParam(pairs.filter((other) => other.key !== pair.key));
      chips.push({
        id: `context-${pair.key}`,
        label: "Context",
        value: `${pair.key} = ${typedValue(pair.value)}`,
        clear: { context: rest },
      });
    }
  }
  return chips;
}

export function FilterChips({
  filters,
  onApply,
  onClearAll,
}: {
  filters: FilterValues;
  onApply: (patch: FilterValues) => void;
  onClearAll: () => void;
}) {
  const databases = useQuery(databaseQueries.list()).data?.databases ?? [];
  // A source link (a database's page links its changes so) names the database, not its id.
  const sourceName = (id: string) => databases.find((d) => d.id === id.toLowerCase())?.name ?? id;
  const chips = chipsOf(filters, sourceName);
  if (chips.length === 0) return null;
  return (
    <div className="flex flex-wrap items-center gap-2" aria-label="Active filters" role="group">
      {chips.map((chip) => (
        <span
          key={chip.id}
          data-testid="filter-chip"
          className={classes(
            "inline-flex max-w-full items-center gap-1 rounded-full border border-indigo-200 bg-indigo-50",
            "py-0.5 pl-3 pr-1 text-sm text-indigo-900",
          )}
        >
          <span className="text-indigo-700">{chip.label}:</span>
          <span className="min-w-0 font-medium wrap-anywhere">{chip.value}</span>
          <button
            type="button"
            onClick={() => onApply(chip.clear)}
            aria-label={`Remove filter ${chip.label}: ${chip.value}`}
            className="ml-0.5 rounded-full px-1.5 text-indigo-500 hover:bg-indigo-100 hover:text-indigo-900"
          >
            ×
          </button>
        </span>
      ))}
      <button type="button" onClick={onClearAll} className="text-sm font-medium text-indigo-700 hover:underline">
        Clear all
      </button>
    </div>
  );
}
