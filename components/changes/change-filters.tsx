"use client";

import { useQuery } from "@tanstack/react-query";
import { classes } from "@/components/ui/classes";
import { OPERATIONS, type FilterValues, type OperationName } from "@/lib/changes/filters";
import { databaseQueries } from "@/lib/query/databases";
import { ContextFilterField } from "./context-filter-field";
import { OPERATION_LABELS } from "./operation-badge";
import { TableFilter } from "./table-filter";
import { filterInputClass, filterLabelClass, TextFilter } from "./text-filter";
import { TimeFilter } from "./time-filter";

/** The operations a filter names (`CREATE,UPDATE`), in their usual order. */
export function operationsOf(param: string | undefined): OperationName[] {
  const named = new Set((param ?? "").split(",").map((name) => name.trim().toUpperCase()));
  return OPERATIONS.filter((operation) => named.has(operation));
}

type Props = {
  filters: FilterValues;
  /** The header's environment: the table suggestions and the database list are the ones it holds. */
  environment: string;
  onApply: (patch: FilterValues) => void;
};

/** Every filter of the change list; each applies to the URL (one history entry per edit). */
export function ChangeFilters({ filters, environment, onApply }: Props) {
  const operations = operationsOf(filters.operation);
  const toggle = (operation: OperationName, on: boolean) => {
    const next = OPERATIONS.filter((o) => (o === operation ? on : operations.includes(o)));
    // All four is no filter at all.
    onApply({ operation: next.length === OPERATIONS.length ? "" : next.join(",") });
  };

  return (
    <form
      role="search"
      aria-label="Filter changes"
      id="change-filters"
      className="grid grid-cols-1 gap-4 rounded-lg border border-slate-200 bg-white p-4 sm:grid-cols-2 lg:grid-cols-4"
      onSubmit={(event) => event.preventDefault()}
    >
      <fieldset className="space-y-1 sm:col-span-2">
        <legend className={filterLabelClass}>Operation</legend>
        <div className="flex flex-wrap gap-2 pt-1">
          {OPERATIONS.map((operation) => {
            const checked = operations.includes(operation);
            return (
              <label
                key={operation}
                className={classes(
                  "flex cursor-pointer items-center gap-1.5 rounded-full border px-3 py-1 text-sm",
                  "has-[:focus-visible]:ring-2 has-[:focus-visible]:ring-indigo-500",
                  checked ? "border-indigo-300 bg-indigo-50 text-indigo-900" : "border-slate-300 text-slate-700",
                )}
              >
                <input
                  type="checkbox"
                  className="h-3.5 w-3.5 accent-indigo-600"
                  checked={checked}
                  onChange={(event) => toggle(operation, event.target.checked)}
                />
                {OPERATION_LABELS[operation]}
              </label>
            );
          })}
        </div>
      </fieldset>
      <div className="sm:col-span-2">
        <TimeFilter range={{ from: filters.from, to: filters.to }} onApply={onApply} />
      </div>
      <TableFilter
        value={filters.table ?? ""}
        environment={environment}
        database={filters.database ?? ""}
        onApply={(table) => onApply({ table })}
      />
      <TextFilter
        id="filter-primary-key"
        label="Primary key"
        placeholder="42, or 31,1 for a composite key"
        value={filters.primaryKey ?? ""}
        onApply={(primaryKey) => onApply({ primaryKey })}
      />
      <DatabaseFilter
        value={filters.database ?? ""}
        environment={environment}
        onApply={(database) => onApply({ database })}
      />
      <TextFilter
        id="filter-field"
        label="Changed field"
        placeholder="updates that changed it, e.g. price"
        value={filters.field ?? ""}
        onApply={(field) => onApply({ field })}
      />
      <div className="sm:col-span-2 lg:col-span-4">
        <ContextFilterField value={filters.context ?? ""} onApply={(context) => onApply({ context })} />
      </div>
    </form>
  );
}

/** The databases connected in the environment, by name (the API's `database` filter is the database's name). */
function DatabaseFilter({
  value,
  environment,
  onApply,
}: {
  value: string;
  environment: string;
  onApply: (database: string) => void;
}) {
  const query = useQuery(databaseQueries.list());
  const names = [
    ...new Set(
      (query.data?.databases ?? [])
        .filter((database) => !environment || database.environment === environment)
        .map((database) => database.database),
    ),
  ].sort();
  if (value && !names.includes(value)) names.push(value);
  return (
    <div className="space-y-1">
      <label htmlFor="filter-database" className={filterLabelClass}>
        Database
      </label>
      <select
        id="filter-database"
        className={filterInputClass}
        value={value}
        onChange={(event) => onApply(event.target.value)}
      >
        <option value="">All</option>
        {names.map((name) => (
          <option key={name} value={name}>
            {name}
          </option>
        ))}
      </select>
    </div>
  );
}
