"use client";

import { useState } from "react";
import { classes } from "@/components/ui/classes";

/** SQL or config a user should run, with a copy button. */
export function CopyBlock({ text, label = "Copy" }: { text: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      setTimeout(() => setCopied(false), 2_000);
    } catch {
      // Clipboard access can be denied (insecure origin); the text stays selectable.
    }
  }
  return (
    <div className="mt-2 overflow-hidden rounded-md bg-slate-900">
      {/*
        The Copy button has a bar of its own above the code, so it covers none of it at any width (it used to float
        over the first line's end on a phone).
      */}
      <div className="flex justify-end border-b border-slate-700 px-2 py-1">
        <button
          type="button"
          onClick={() => void copy()}
          className="rounded bg-slate-700 px-2 py-0.5 text-xs text-slate-100 hover:bg-slate-600"
        >
          {copied ? "Copied" : label}
        </button>
      </div>
      {/*
        Long lines wrap, each continued under a hanging indent so a wrapped statement still reads as one line:
        nothing hides behind a sideways scroll.
      */}
      <pre
        className={classes(
          "px-3 py-2",
          "whitespace-pre-wrap font-mono text-xs leading-relaxed text-slate-100 wrap-anywhere",
        )}
      >
        {text.split("\n").map((line, i) => (
          <span key={i} className="block min-h-[1lh] pl-4 -indent-4">
            {line}
          </span>
        ))}
      </pre>
    </div>
  );
}
