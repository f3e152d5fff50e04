"use client";

import { useEffect, useRef, useState } from "react";
import { smallSecondaryButton } from "./classes";

type State = "idle" | "copied" | "failed";

/**
 * A button that copies text to the clipboard and says, for two seconds, that it did (or could not: clipboard
 * access can be denied). `text` is read at the click, so a value known only in the browser (a permalink's origin)
 * is fine.
 */
export function CopyButton({ label, text }: { label: string; text: () => string }) {
  const [state, setState] = useState<State>("idle");
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);

  async function copy() {
    let next: State = "copied";
    try {
      await navigator.clipboard.writeText(text());
    } catch {
      next = "failed";
    }
    setState(next);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => setState("idle"), 2_000);
  }

  // The button keeps its name while its text says what happened; a status announces it.
  return (
    <>
      <button
        type="button"
        aria-label={label}
        onClick={() => void copy()}
        className={`${smallSecondaryButton} whitespace-nowrap`}
      >
        {state === "copied" ? "Copied" : state === "failed" ? "Copy failed" : label}
      </button>
      <span role="status" className="sr-only">
        {state === "copied" ? `${label}: copied` : state === "failed" ? `${label}: the clipboard refused it` : ""}
      </span>
    </>
  );
}
