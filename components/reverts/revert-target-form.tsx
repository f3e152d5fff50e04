"use client";

import { useRouter } from "next/navigation";
import { useId, useState } from "react";
import { inputClass, primaryButton } from "@/components/ui/classes";
import { contextParam, parseContextPair } from "@/lib/changes/context-filter";
import { revertHref } from "@/lib/changes/revert/target";

type Kind = "changeId" | "transactionOf" | "context";

const LABELS: Record<Kind, { label: string; placeholder: string; hint: string }> = {
  changeId: { label: "One change", placeholder: "Change id, e.g. 1042", hint: "The id shown on a change's page." },
  transactionOf: {
    label: "A whole transaction",
    placeholder: "Id of any change in it, e.g. 1042",
    hint: "Every change committed with that one.",
  },
  context: {
    label: "Every change with a context value",
    placeholder: "request_id = 5f2c…",
    hint: "key = value, as in the change list's context filter; numbers stay numbers, quotes make text.",
  },
};

/** What to revert, when the URL does not say: a change, its transaction, or a context value. */
export function RevertTargetForm({ invalid }: { invalid: boolean }) {
  const router = useRouter();
  const [kind, setKind] = useState<Kind>("changeId");
  const [value, setValue] = useState("");
  const [error, setError] = useState<string | null>(null);
  const inputId = useId();

  function submit(event: React.FormEvent) {
    event.preventDefault();
    const text = value.trim();
    if (kind === "context") {
      const pair = parseContextPair(text);
      if (!pair) return setError("Type key = value, e.g. request_id = 5f2c.");
      return router.push(revertHref({ context: contextParam([pair]) }));
    }
    if (!/^[1-9]\d{0,18}$/.test(text)) return setError("Type a change id: a positive whole number.");
    router.push(revertHref(kind === "changeId" ? { changeId: text } : { transactionOf: text }));
  }

  return (
    <div className="mx-auto max-w-xl space-y-4">
      <h1 className="text-xl font-semibold tracking-tight sm:text-2xl">Revert</h1>
      <p className="text-sm text-slate-600">
        Retrace writes the SQL that undoes changes from the trail, newest first, and checks each row first. Usually you
        start from a change&apos;s page (&ldquo;Revert this change&rdquo;) or from the change list filtered by a context
        value.
      </p>
      {invalid ? (
        <p role="alert" className="rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900">
          The link did not name a change, a transaction or a context value Retrace can read.
        </p>
      ) : null}
      <form onSubmit={submit} className="space-y-4 rounded-lg border border-slate-200 bg-white p-4 sm:p-6" noValidate>
        <fieldset className="space-y-2">
          <legend className="text-sm font-medium text-slate-700">What to revert</legend>
          {(Object.keys(LABELS) as Kind[]).map((option) => (
            <label key={option} className="flex items-center gap-2 text-sm">
              <input
                type="radio"
                name="kind"
                className="h-4 w-4 accent-indigo-600"
                checked={kind === option}
                onChange={() => {
                  setKind(option);
                  setError(null);
                }}
              />
              {LABELS[option].label}
            </label>
          ))}
        </fieldset>
        <div>
          <label htmlFor={inputId} className="text-sm font-medium text-slate-700">
            {kind === "context" ? "Context value" : "Change id"}
          </label>
          <input
            id={inputId}
            className={`${inputClass} mt-1 font-mono`}
            value={value}
            placeholder={LABELS[kind].placeholder}
            aria-describedby={`${inputId}-hint`}
            aria-invalid={error !== null}
            onChange={(event) => {
              setValue(event.target.value);
              setError(null);
            }}
          />
          <p id={`${inputId}-hint`} className="mt-1 text-xs text-slate-500">
            {LABELS[kind].hint}
          </p>
          {error ? (
            <p role="alert" className="mt-1 text-sm text-red-700">
              {error}
            </p>
          ) : null}
        </div>
        <button type="submit" className={primaryButton}>
          Show revert SQL
        </button>
      </form>
    </div>
  );
}
