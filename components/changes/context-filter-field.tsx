"use client";

import { useState } from "react";
import { smallSecondaryButton } from "@/components/ui/classes";
import { contextPairs, contextParam, parseContextPair } from "@/lib/changes/context-filter";
import { filterInputClass, filterLabelClass } from "./text-filter";

/**
 * Adds `key = value` pairs to the context filter (the chips list and remove them). The hint states the rule of
 * lib/changes/context-filter.ts: a number stays a number, quotes make text.
 */
export function ContextFilterField({ value, onApply }: { value: string; onApply: (context: string) => void }) {
  const [draft, setDraft] = useState("");
  const [error, setError] = useState<string | null>(null);

  const add = () => {
    if (!draft.trim()) return;
    const pair = parseContextPair(draft);
    if (!pair) {
      setError("Type a pair as key = value, e.g. user_id = 42");
      return;
    }
    // A context the URL holds that is not a JSON object is replaced (its chip says it is invalid).
    onApply(contextParam([...(contextPairs(value) ?? []), pair]));
    setDraft("");
    setError(null);
  };

  return (
    <div className="space-y-1">
      <label htmlFor="filter-context" className={filterLabelClass}>
        Context
      </label>
      <div className="flex gap-2">
        <input
          id="filter-context"
          type="text"
          className={filterInputClass}
          placeholder="user_id = 42"
          value={draft}
          autoComplete="off"
          spellCheck={false}
          aria-describedby="filter-context-hint"
          aria-invalid={error !== null}
          onChange={(event) => {
            setDraft(event.target.value);
            setError(null);
          }}
          onKeyDown={(event) => {
            if (event.key === "Enter") {
              event.preventDefault();
              add();
            }
          }}
        />
        <button type="button" onClick={add} className={`${smallSecondaryButton} shrink-0`}>
          Add
        </button>
      </div>
      {error ? (
        <p role="alert" className="text-xs text-red-700">
          {error}
        </p>
      ) : null}
      <p id="filter-context-hint" className="text-xs text-slate-500">
        Matches changes whose application context holds every pair. A number stays a number (
        <code className="font-mono">user_id = 42</code>), as do <code className="font-mono">true</code>,{" "}
        <code className="font-mono">false</code> and <code className="font-mono">null</code>; quotes make text (
        <code className="font-mono">user_id = &quot;42&quot;</code>); anything else is text as typed (
        <code className="font-mono">endpoint = POST /orders</code>).
      </p>
    </div>
  );
}
