"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useDeferredValue, useState, type FormEvent } from "react";
import { classes, inputClass, smallSecondaryButton } from "@/components/ui/classes";
import { trailQueries } from "@/lib/query/trail";
import { parseTableName } from "@/lib/sources/input";

/**
 * Adds a table of `environment` that keeps its changes for a time of its own: type-ahead over the tables the
 * trail holds there (a list the browser offers under the field), or any `schema.table` typed out.
 */
export function AddTable({
  environment,
  taken,
  onAdd,
}: {
  environment: string;
  /** Tables that already have a rule here. */
  taken: readonly string[];
  onAdd: (table: string) => void;
}) {
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const q = useDeferredValue(text.trim());
  const tables = useQuery({
    ...trailQueries.tables(q, environment),
    placeholderData: keepPreviousData,
  });
  const names = [...new Set((tables.data?.tables ?? []).map((t) => `${t.schema}.${t.table}`))]
    .filter((name) => !taken.includes(name))
    .slice(0, 20);
  const id = `add-table-${environment}`;

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const table = text.trim();
    if (parseTableName(table) === null) return setError('Name a table as "schema.table", e.g. public.orders.');
    if (taken.includes(table)) return setError(`${table} already has its own rule here.`);
    setError(null);
    setText("");
    onAdd(table);
  }

  return (
    <form onSubmit={onSubmit} className="flex flex-wrap items-start gap-2" noValidate>
      <div className="min-w-0 flex-1 basis-56">
        <label htmlFor={id} className="sr-only">
          Table of {environment} with its own rule
        </label>
        <input
          id={id}
          list={`${id}-list`}
          value={text}
          placeholder="Add a table: public.orders"
          autoComplete="off"
          spellCheck={false}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${id}-error` : undefined}
          onChange={(event) => {
            setText(event.target.value);
            setError(null);
          }}
          className={classes(inputClass, "py-1.5 font-mono")}
        />
        <datalist id={`${id}-list`}>
          {names.map((name) => (
            <option key={name} value={name} />
          ))}
        </datalist>
        {error ? (
          <p id={`${id}-error`} className="mt-1 text-sm text-red-700">
            {error}
          </p>
        ) : null}
      </div>
      <button type="submit" className={smallSecondaryButton} aria-label={`Add a table rule to ${environment}`}>
        Add table
      </button>
    </form>
  );
}
