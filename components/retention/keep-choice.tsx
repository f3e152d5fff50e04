"use client";

import { useState } from "react";
import { classes, inputClass } from "@/components/ui/classes";
import { MAX_RETENTION_DAYS } from "@/lib/retention/input";

/** One rule as the editor holds it; `invalid` while the custom days typed are not a number it can save. */
export type Keep = { days: number | null; archive: boolean; invalid?: boolean };

export const PRESET_DAYS = [7, 30, 90, 365] as const;

function choiceOf(days: number | null): string {
  if (days === null) return "forever";
  return (PRESET_DAYS as readonly number[]).includes(days) ? String(days) : "custom";
}

/** The days typed, if they are a whole number in range. */
function parseDays(text: string): number | null {
  if (!/^\s*\d+\s*$/.test(text)) return null;
  const days = Number(text);
  return days >= 1 && days <= MAX_RETENTION_DAYS ? days : null;
}

/**
 * "Keep changes for": 7 / 30 / 90 / 365 days, forever, or a custom number of days; and whether to archive a
 * partition before it is dropped (only when changes expire).
 */
export function KeepChoice({
  id,
  subject,
  value,
  onChange,
  disabled,
}: {
  id: string;
  /** Whose changes, in the controls' accessible names: "test" names "Keep test changes for". */
  subject: string;
  value: Keep;
  onChange: (keep: Keep) => void;
  disabled: boolean;
}) {
  const [choice, setChoice] = useState(() => choiceOf(value.days));
  const [customText, setCustomText] = useState(() => (value.days === null ? "14" : String(value.days)));
  const label = `Keep ${subject} changes for`;
  const customInvalid = choice === "custom" && parseDays(customText) === null;

  return (
    <div className="flex flex-wrap items-center gap-x-4 gap-y-2">
      <div className="flex items-center gap-2">
        <label htmlFor={`${id}-keep`} className="sr-only">
          {label}
        </label>
        <select
          id={`${id}-keep`}
          value={choice}
          disabled={disabled}
          className={classes(inputClass, "w-auto py-1.5")}
          onChange={(event) => {
            const next = event.target.value;
            setChoice(next);
            if (next === "forever") onChange({ days: null, archive: false });
            else if (next === "custom") {
              const days = parseDays(customText);
              onChange({ ...value, days: days ?? value.days, invalid: days === null });
            } else onChange({ ...value, days: Number(next), invalid: false });
          }}
        >
          {PRESET_DAYS.map((days) => (
            <option key={days} value={days}>
              {days} days
            </option>
          ))}
          <option value="forever">Forever</option>
          <option value="custom">Custom…</option>
        </select>
        {choice === "custom" ? (
          <>
            <label htmlFor={`${id}-days`} className="sr-only">
              {label} (days)
            </label>
            <input
              id={`${id}-days`}
              type="number"
              inputMode="numeric"
              min={1}
              max={MAX_RETENTION_DAYS}
              value={customText}
              disabled={disabled}
              aria-invalid={customInvalid || undefined}
              aria-describedby={customInvalid ? `${id}-days-error` : undefined}
              className={classes(inputClass, "w-24 py-1.5")}
              onChange={(event) => {
                setCustomText(event.target.value);
                const days = parseDays(event.target.value);
                onChange({ ...value, days: days ?? value.days, invalid: days === null });
              }}
            />
            <span className="text-sm text-slate-600">days</span>
          </>
        ) : null}
      </div>
      <label className="flex items-center gap-2 text-sm text-slate-700">
        <input
          type="checkbox"
          checked={value.archive && value.days !== null}
          disabled={disabled || value.days === null}
          aria-label={`Archive ${subject} changes before dropping`}
          onChange={(event) => onChange({ ...value, archive: event.target.checked })}
          className="h-4 w-4 rounded border-slate-300"
        />
        Archive before dropping
      </label>
      {customInvalid ? (
        <p id={`${id}-days-error`} className="w-full text-sm text-red-700">
          Days must be a whole number from 1 to {MAX_RETENTION_DAYS.toLocaleString("en-US")}.
        </p>
      ) : null}
    </div>
  );
}
