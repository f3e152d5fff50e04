import { isLosslessNumber, LosslessNumber, parse, stringify } from "lossless-json";

/**
 * JSON without losing a digit. Change images carry int8 and numeric values that JSON.parse would round
 * (9223372036854775807 becomes ...808, 24.50 becomes 24.5), so the browser reads the API with `parseJson`, and
 * `toJsonText` writes values back exactly as received. Client-safe.
 */
export { LosslessNumber };

export type JsonValue = null | boolean | string | number | LosslessNumber | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !isLosslessNumber(value);
}

/**
 * A JavaScript number when that loses nothing (the text is exactly how JavaScript writes the number, as
 * JSON.stringify wrote every number of the API's own fields), a LosslessNumber keeping the text otherwise.
 */
function parseNumber(text: string): number | LosslessNumber {
  const number = Number(text);
  return String(number) === text ? number : new LosslessNumber(text);
}

/** Throws SyntaxError on invalid JSON. A repeated key keeps its last value, as JSON.parse does. */
export function parseJson(text: string): JsonValue {
  return parse(text, null, { parseNumber, onDuplicateKey: ({ newValue }) => newValue }) as JsonValue;
}

/** JSON text of a parsed value with numbers written exactly as received; `indent` spaces per level. */
export function toJsonText(value: JsonValue, indent = 0): string {
  return stringify(value, null, indent) ?? "null";
}
