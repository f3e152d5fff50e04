import crypto from "node:crypto";
import type { JsonValue } from "../api/json";

/**
 * JSON text that must reach the client byte-for-byte (PostgreSQL's jsonb::text). Passing it
 * through JSON.parse would turn int8 and numeric values into floats and lose digits. `J` is
 * what the text holds, as the browser parses it (lib/api/types.ts's Jsonified).
 */
export class RawJson<J extends JsonValue = JsonValue> {
  declare private readonly holds: J;
  constructor(readonly text: string) {}
}

/**
 * JSON.stringify, except that RawJson values are embedded as their text instead of being
 * parsed and re-serialised. Each RawJson is first replaced by a placeholder string carrying a
 * per-call nonce, so no user data can be mistaken for a placeholder.
 */
export function stringifyWithRaw(value: unknown): string {
  const nonce = crypto.randomBytes(12).toString("hex");
  const raws: string[] = [];
  const json = JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof RawJson) {
      raws.push(v.text);
      return `\u0000raw:${nonce}:${raws.length - 1}`;
    }
    return v;
  });
  if (raws.length === 0) return json;
  const placeholder = new RegExp(`"\\\\u0000raw:${nonce}:(\\d+)"`, "g");
  return json.replace(placeholder, (_match, index: string) => raws[Number(index)] ?? "null");
}

/** A JSON response whose RawJson values are embedded verbatim. */
export function rawJsonResponse(body: unknown, init: ResponseInit = {}): Response {
  const headers = new Headers(init.headers);
  headers.set("content-type", "application/json; charset=utf-8");
  return new Response(stringifyWithRaw(body), { ...init, headers });
}
