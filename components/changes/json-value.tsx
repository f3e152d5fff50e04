"use client";

import { useState } from "react";
import { isJsonObject, toJsonText, type JsonValue } from "@/lib/api/json";
import type { DifferenceKind } from "@/lib/changes/json-diff";
import { stringLook, truncatedText } from "@/lib/changes/value-text";
import { JsonDocument } from "./json-document";

/** Characters of a text value shown before "Show all". */
const TEXT_LIMIT = 400;

const note = "ml-1.5 whitespace-nowrap rounded bg-slate-100 px-1 font-sans text-[10px] uppercase text-slate-500";

/**
 * A column value as a reader expects it, exact: text as text (no JSON quotes; the empty string, whitespace alone
 * and the word "null" say what they are), numbers with every digit received, SQL NULL as a badge, the JSON null
 * of a json/jsonb column (`jsonNull`, from the change's json-null field lists: `null` in the image too) as the
 * literal, labelled, and a json/jsonb object or array as an indented document whose places that differ from the
 * other image (`marks`) are highlighted. Long text and long documents are cut, with "Show all". Lines break
 * between words, and inside a word only when it is longer than the line (a digest, a URL).
 */
export function JsonValueView({
  value,
  jsonNull = false,
  unavailable = false,
  marks,
}: {
  value: JsonValue | undefined;
  jsonNull?: boolean;
  /** The WAL did not carry the value (an unchanged TOASTed value, an unpublished generated column). */
  unavailable?: boolean;
  marks?: ReadonlyMap<string, DifferenceKind>;
}) {
  if (value === undefined && unavailable) {
    return (
      <span
        title="The write-ahead log did not carry this value: an unchanged TOASTed value, or a generated column"
        className="text-xs italic text-slate-500"
      >
        not in the WAL
      </span>
    );
  }
  if (value === undefined) return <span className="text-xs italic text-slate-400">absent</span>;
  if (value === null && jsonNull) {
    return (
      <span title="JSON null (a json/jsonb value), not SQL NULL" className="font-mono text-xs text-slate-800">
        null <span className="font-sans text-[10px] uppercase text-slate-400">json</span>
      </span>
    );
  }
  if (value === null) {
    return (
      <span
        title="SQL NULL"
        className="rounded bg-slate-100 px-1.5 py-0.5 font-mono text-xs font-medium text-slate-500"
      >
        NULL
      </span>
    );
  }
  if (typeof value === "string") return <TextValue value={value} />;
  if (Array.isArray(value) || isJsonObject(value)) return <JsonDocument value={value} marks={marks} />;
  return <span className="font-mono text-sm text-slate-800">{toJsonText(value)}</span>;
}

function TextValue({ value }: { value: string }) {
  const [whole, setWhole] = useState(false);
  const look = stringLook(value);
  const cut = whole ? null : truncatedText(look.text, TEXT_LIMIT);
  return (
    <span className="whitespace-pre-wrap wrap-anywhere text-sm text-slate-800" data-value="text">
      {cut ?? look.text}
      {cut !== null ? <span aria-hidden>…</span> : null}
      {look.note ? <span className={note}>{look.note}</span> : null}
      {cut !== null ? (
        <button
          type="button"
          onClick={() => setWhole(true)}
          className="ml-2 whitespace-nowrap text-xs font-medium text-indigo-700 hover:underline"
        >
          Show all ({[...value].length.toLocaleString("en")} characters)
        </button>
      ) : null}
    </span>
  );
}
