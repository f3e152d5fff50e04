import { isJsonObject, LosslessNumber, parseJson } from "../api/json";

/**
 * The stored `primary_key` texts a typed key may stand for. A single-column key is stored as its text, a composite
 * one as the JSON array of its columns' texts (lib/replication/images.ts), and people type a composite key as
 * `31,1`, `(31,1)` or that JSON. The text as typed is always a candidate, so a single-column key that contains a
 * comma (or looks like a tuple) is still found.
 */
export function primaryKeyCandidates(typed: string): string[] {
  const candidates = new Set([typed]);
  const parts = keyParts(typed.trim());
  if (parts && parts.length === 1 && parts[0] !== undefined) candidates.add(parts[0]);
  if (parts && parts.length > 1) candidates.add(JSON.stringify(parts));
  return [...candidates];
}

/** The columns' texts of a key typed as a JSON array, a tuple or a comma-separated list; null when none. */
function keyParts(text: string): string[] | null {
  if (text.startsWith("[")) return jsonParts(text);
  const inner = text.startsWith("(") && text.endsWith(")") ? text.slice(1, -1) : text;
  if (inner === text && !text.includes(",")) return null;
  return splitTuple(inner);
}

function jsonParts(text: string): string[] | null {
  let value;
  try {
    value = parseJson(text);
  } catch {
    return null;
  }
  if (!Array.isArray(value)) return null;
  const parts: string[] = [];
  for (const item of value) {
    if (typeof item === "string") parts.push(item);
    else if (item instanceof LosslessNumber) parts.push(item.toString());
    else if (typeof item === "number" || typeof item === "boolean") parts.push(String(item));
    else if (item === null || Array.isArray(item) || isJsonObject(item)) return null;
  }
  return parts;
}

/** `a, "b,c", d` → ["a", "b,c", "d"]: commas split unless inside double quotes ("" is a quote). */
function splitTuple(inner: string): string[] {
  const parts: string[] = [];
  let current = "";
  let quoted = false;
  let wasQuoted = false;
  for (let i = 0; i < inner.length; i++) {
    const char = inner[i];
    if (quoted) {
      if (char === '"' && inner[i + 1] === '"') {
        current += '"';
        i++;
      } else if (char === '"') quoted = false;
      else current += char;
    } else if (char === '"' && current.trim() === "") {
      quoted = true;
      wasQuoted = true;
      current = "";
    } else if (char === ",") {
      parts.push(wasQuoted ? current : current.trim());
      current = "";
      wasQuoted = false;
    } else if (!(wasQuoted && char === " ")) current += char;
  }
  parts.push(wasQuoted ? current : current.trim());
  return parts;
}
