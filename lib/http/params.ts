import { Invalid } from "../errors";

const NUL_MESSAGE = "must not contain a NUL character (\\u0000)";

/** 400 for a parameter holding a NUL character: PostgreSQL text cannot hold one, so nothing could match it. */
export function nulInParameter(name: string): Invalid {
  const path = name.replace(/\u0000/g, "\\u0000");
  return new Invalid(`${path}: ${NUL_MESSAGE}`, [{ path, message: NUL_MESSAGE }]);
}

/** The path of the first string (or key) holding a NUL character in a parsed JSON body, or null. */
export function nulPath(value: unknown, path: string[] = []): string | null {
  if (typeof value === "string") return value.includes("\u0000") ? path.join(".") || "body" : null;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = nulPath(item, [...path, String(index)]);
      if (found !== null) return found;
    }
    return null;
  }
  if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      if (key.includes("\u0000")) return [...path, key.replace(/\u0000/g, "\\u0000")].join(".");
      const found = nulPath(item, [...path, key]);
      if (found !== null) return found;
    }
  }
  return null;
}
