import { isJsonObject, parseJson, toJsonText } from "../api/json";

/**
 * The context filter as people type it: `key = value` pairs, which the API takes as one JSON object the change's
 * context must contain (PostgreSQL's `@>`, where 42 and "42" differ). The rule, shown beside the field: a number
 * typed stays a number (`user_id = 42`), and so do `true`, `false` and `null`; double quotes make text
 * (`user_id = "42"`); anything else is text as typed (`endpoint = POST /orders`). Numbers keep every digit.
 * Client-safe.
 */

/** A pair: the key, and the value as JSON text (`42`, `"POST /orders"`). */
export type ContextPair = { key: string; value: string };

const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const LITERALS = new Set(["true", "false", "null"]);

/** A typed value as JSON text, by the rule above. */
export function contextValueJson(typed: string): string {
  const text = typed.trim();
  if (NUMBER.test(text) || LITERALS.has(text)) return text;
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) {
    try {
      const parsed = parseJson(text);
      if (typeof parsed === "string") return JSON.stringify(parsed);
    } catch {
      // Not a JSON string (an unescaped quote inside): the text between the quotes, as typed.
    }
    return JSON.stringify(text.slice(1, -1));
  }
  return JSON.stringify(text);
}

/** `user_id = 42` as a pair; null when there is no key or no `=`. The first `=` splits: values may hold one. */
export function parseContextPair(typed: string): ContextPair | null {
  const at = typed.indexOf("=");
  if (at < 0) return null;
  const key = typed.slice(0, at).trim();
  if (!key) return null;
  return { key, value: contextValueJson(typed.slice(at + 1)) };
}

/** A pair's value the way it would be typed to mean the same (a text that reads as a number keeps its quotes). */
export function typedValue(value: string): string {
  let parsed;
  try {
    parsed = parseJson(value);
  } catch {
    return value;
  }
  if (typeof parsed !== "string") return value;
  return contextValueJson(parsed) === value ? parsed : value;
}

/** The `context` parameter of the pairs (a later pair with the same key replaces an earlier one); "" for none. */
export function contextParam(pairs: readonly ContextPair[]): string {
  const byKey = new Map<string, string>();
  for (const pair of pairs) byKey.set(pair.key, pair.value);
  if (byKey.size === 0) return "";
  return `{${[...byKey].map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(",")}}`;
}

/** The pairs of a `context` parameter; null when it is not a JSON object (the API then says what is wrong). */
export function contextPairs(param: string | undefined): ContextPair[] | null {
  if (!param) return [];
  let parsed;
  try {
    parsed = parseJson(param);
  } catch {
    return null;
  }
  if (!isJsonObject(parsed)) return null;
  return Object.entries(parsed).map(([key, value]) => ({ key, value: toJsonText(value) }));
}
