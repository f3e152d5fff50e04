import { toJsonText, type JsonValue } from "@/lib/api/json";

/**
 * A column value exactly as received, in JSON text: strings keep their quotes so the string
 * "null" never looks like SQL NULL, which gets its own badge; numbers keep every digit. A json or jsonb column holding
 * the JSON value null (`jsonNull`, from the change's json-null field lists) is `null` in the image too, so it is shown
 * as the literal and labelled, never as the NULL badge. Lines break between words, and inside a word only when it is
 * longer than the line (a digest, a URL), never one character a line.
 */
export function JsonValueView({ value, jsonNull = false }: { value: JsonValue | undefined; jsonNull?: boolean }) {
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
  const compact = toJsonText(value);
  const text = compact.length > 80 && typeof value === "object" ? toJsonText(value, 2) : compact;
  return <span className="whitespace-pre-wrap font-mono wrap-anywhere text-xs text-slate-800">{text}</span>;
}
