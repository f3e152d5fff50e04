"use client";

import { useState } from "react";
import { classes } from "@/components/ui/classes";
import type { JsonValue } from "@/lib/api/json";
import type { DifferenceKind } from "@/lib/changes/json-diff";
import { foldLines, jsonLines, type JsonLine } from "@/lib/changes/json-lines";

const MARK_STYLE: Record<DifferenceKind, string> = {
  changed: "bg-amber-200/70",
  added: "bg-emerald-200/70",
  removed: "bg-red-200/70",
};

const MARK_WORD: Record<DifferenceKind, string> = { changed: "changed", added: "added", removed: "removed" };

/**
 * A json/jsonb value as an indented document, its differing places (`marks`, from jsonDifferences) highlighted
 * line by line, so the key that changed stands out of a large document. A long document shows its marked lines
 * and a little around them (or its beginning), the rest folded, until "Show all".
 */
export function JsonDocument({ value, marks }: { value: JsonValue; marks?: ReadonlyMap<string, DifferenceKind> }) {
  const [whole, setWhole] = useState(false);
  const lines = jsonLines(value, marks);
  const runs = whole ? [{ kind: "lines" as const, lines }] : foldLines(lines);
  const folded = runs.some((run) => run.kind === "folded");
  return (
    <div className="min-w-0" data-value="json">
      <pre className="whitespace-pre-wrap font-mono text-xs leading-5 text-slate-800 wrap-anywhere">
        {runs.map((run, index) =>
          run.kind === "lines" ? (
            run.lines.map((line, at) => <Line key={`${index}-${at}`} line={line} />)
          ) : (
            <span key={`${index}-fold`} className="block select-none text-slate-400">
              {"  "}⋯ {run.count} lines
            </span>
          ),
        )}
      </pre>
      {folded ? (
        <button
          type="button"
          onClick={() => setWhole(true)}
          className="mt-1 text-xs font-medium text-indigo-700 hover:underline"
        >
          Show all ({lines.length} lines)
        </button>
      ) : null}
    </div>
  );
}

function Line({ line }: { line: JsonLine }) {
  // A hanging indent: a wrapped value continues under its own start, not under the line's key.
  const indent = { paddingLeft: `${line.depth * 2 + 2}ch`, textIndent: "-2ch" };
  return (
    <span
      className={classes("block", line.mark ? MARK_STYLE[line.mark] : "")}
      style={indent}
      data-mark={line.mark ?? undefined}
      data-path={line.path.length > 0 ? line.path.join(".") : undefined}
    >
      {line.mark ? <span className="sr-only">{MARK_WORD[line.mark]}: </span> : null}
      {line.key !== null ? <span className="text-sky-800">{JSON.stringify(line.key)}: </span> : null}
      {line.text}
      {line.comma ? "," : ""}
    </span>
  );
}
