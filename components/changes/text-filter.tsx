"use client";

import { useEffect, useEffectEvent, useState, type InputHTMLAttributes } from "react";
import { classes } from "@/components/ui/classes";

export const filterInputClass = classes(
  "block w-full rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm shadow-sm",
  "focus:border-indigo-500",
);

export const filterLabelClass = "block text-xs font-medium text-slate-600";

const DEBOUNCE_MS = 600;

type Props = {
  id: string;
  label: string;
  value: string;
  onApply: (value: string) => void;
  className?: string;
} & Pick<InputHTMLAttributes<HTMLInputElement>, "placeholder" | "aria-describedby">;

/**
 * A text filter that applies on Enter, on blur, or after a pause in typing, so the URL (and the query, and the
 * history) does not change on every keystroke.
 */
export function TextFilter({ id, label, value, onApply, className = "", ...input }: Props) {
  const [draft, setDraft] = useState(value);
  const [applied, setApplied] = useState(value);
  // The URL changed from elsewhere (Back, a chip, "Clear all"): show what it says.
  if (value !== applied) {
    setApplied(value);
    setDraft(value);
  }

  const apply = (next: string) => {
    const trimmed = next.trim();
    if (trimmed === applied) return;
    setApplied(trimmed);
    onApply(trimmed);
  };

  // The latest onApply, without restarting the pause each time the parent renders.
  const applyAfterPause = useEffectEvent(apply);
  useEffect(() => {
    if (draft.trim() === applied) return;
    const timer = setTimeout(() => applyAfterPause(draft), DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [draft, applied]);

  return (
    <div className={classes("space-y-1", className)}>
      <label htmlFor={id} className={filterLabelClass}>
        {label}
      </label>
      <input
        id={id}
        type="search"
        className={filterInputClass}
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
        {...input}
      />
    </div>
  );
}
