"use client";

import { useState, type KeyboardEvent } from "react";
import { fromLocalInput, presetOf, TIME_PRESETS, toLocalInput } from "@/lib/changes/time-range";
import { filterInputClass, filterLabelClass } from "./text-filter";

type Range = { from?: string; to?: string };

/** A custom time applies when the field is left, or on Enter (not at each part typed). */
function blurOnEnter(event: KeyboardEvent<HTMLInputElement>) {
  if (event.key === "Enter") {
    event.preventDefault();
    event.currentTarget.blur();
  }
}

/**
 * The time range: a preset (kept relative, `now-1h`) or a custom from/to in the reader's local time (kept as ISO
 * times). The chart's selection sets a custom range too.
 */
export function TimeFilter({ range, onApply }: { range: Range; onApply: (range: Range) => void }) {
  const preset = presetOf(range);
  const hasRange = Boolean(range.from || range.to);
  const [customOpen, setCustomOpen] = useState(false);
  const custom = customOpen || (hasRange && !preset);
  const [now] = useState(() => Date.now());
  const selected = custom ? "custom" : (preset?.value ?? "");

  return (
    <div className="space-y-1">
      <label htmlFor="filter-time" className={filterLabelClass}>
        Time
      </label>
      <select
        id="filter-time"
        className={filterInputClass}
        value={selected}
        onChange={(event) => {
          const value = event.target.value;
          setCustomOpen(value === "custom");
          if (value === "custom") return;
          onApply({ from: value, to: "" });
        }}
      >
        <option value="">Any time</option>
        {TIME_PRESETS.map((p) => (
          <option key={p.value} value={p.value}>
            {p.label}
          </option>
        ))}
        <option value="custom">Custom range…</option>
      </select>
      {custom ? (
        <div className="grid grid-cols-1 gap-2 pt-1 sm:grid-cols-2">
          <label className="space-y-0.5 text-xs text-slate-600">
            <span className="block">From</span>
            <input
              type="datetime-local"
              aria-label="From"
              className={filterInputClass}
              defaultValue={toLocalInput(range.from, now)}
              key={`from-${range.from ?? ""}`}
              onBlur={(event) => onApply({ from: fromLocalInput(event.target.value), to: range.to ?? "" })}
              onKeyDown={blurOnEnter}
            />
          </label>
          <label className="space-y-0.5 text-xs text-slate-600">
            <span className="block">To</span>
            <input
              type="datetime-local"
              aria-label="To"
              className={filterInputClass}
              defaultValue={toLocalInput(range.to, now)}
              key={`to-${range.to ?? ""}`}
              onBlur={(event) => onApply({ from: range.from ?? "", to: fromLocalInput(event.target.value) })}
              onKeyDown={blurOnEnter}
            />
          </label>
        </div>
      ) : null}
    </div>
  );
}
