"use client";

import { useState, useSyncExternalStore } from "react";
import { classes, inputClass, primaryButton, smallSecondaryButton } from "@/components/ui/classes";

const noSubscription = () => () => {};

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** An ISO time as a datetime-local value in the browser's zone, to the second. */
export function toLocalInput(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const date = `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  return `${date}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A datetime-local value (the browser's zone) as ISO UTC; null when it is not a time. */
export function fromLocalInput(value: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/**
 * A moment, picked in local time (to the second): "Show" applies it, "Now" picks the present. The server renders a
 * placeholder (it does not know the reader's zone); the field appears once the page runs in the browser.
 */
export function AtPicker({
  at,
  onPick,
  label = "As of",
}: {
  at: string | null;
  onPick: (iso: string) => void;
  label?: string;
}) {
  const inBrowser = useSyncExternalStore(
    noSubscription,
    () => true,
    () => false,
  );
  const [draft, setDraft] = useState<string | null>(null);
  const value = draft ?? (at ? toLocalInput(at) : "");
  const picked = fromLocalInput(value);
  if (!inBrowser) return <div className="h-10 w-full max-w-md animate-pulse rounded-md bg-slate-100" aria-hidden />;
  return (
    <form
      className="flex flex-wrap items-end gap-2"
      onSubmit={(event) => {
        event.preventDefault();
        if (picked) onPick(picked);
      }}
    >
      <label className="block min-w-0 grow basis-56 text-sm font-medium text-slate-700 sm:w-72 sm:grow-0">
        {label} <span className="font-normal text-slate-500">(your local time)</span>
        <input
          type="datetime-local"
          step={1}
          name="at"
          value={value}
          onChange={(event) => setDraft(event.target.value)}
          className={classes(inputClass, "mt-1 font-mono")}
        />
      </label>
      <button type="submit" className={primaryButton} disabled={!picked}>
        Show
      </button>
      <button
        type="button"
        className={classes(smallSecondaryButton, "py-2")}
        onClick={() => {
          const now = new Date().toISOString();
          setDraft(toLocalInput(now));
          onPick(now);
        }}
      >
        Now
      </button>
    </form>
  );
}
