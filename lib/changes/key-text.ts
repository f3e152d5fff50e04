import { parseJson } from "../api/json";

/**
 * A stored primary key as a reader reads it: a single-column key is its text; a composite key, stored as the JSON
 * array of its columns' texts, reads `(31, 1)`, which the primary key filter takes back as typed (a part holding a
 * comma, a parenthesis, a quote or edge spaces is quoted, `""` for a quote inside). Client-safe.
 */
export function readableKey(primaryKey: string): string {
  if (!primaryKey.startsWith("[")) return primaryKey;
  let parsed;
  try {
    parsed = parseJson(primaryKey);
  } catch {
    return primaryKey;
  }
  if (!Array.isArray(parsed) || parsed.length === 0) return primaryKey;
  const parts: string[] = [];
  for (const part of parsed) {
    if (typeof part !== "string") return primaryKey;
    parts.push(/[,()"]/.test(part) || part.trim() !== part || part === "" ? `"${part.replace(/"/g, '""')}"` : part);
  }
  return `(${parts.join(", ")})`;
}
