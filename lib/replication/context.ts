/**
 * Application context carried by transactional logical messages
 * (`pg_logical_emit_message(true, '_bemi', '{"user":"a"}')`). `_bemi` is what Bemi's ORM
 * packages emit, `_retrace` is Retrace's own SDK.
 */
export const CONTEXT_PREFIXES: ReadonlySet<string> = new Set(["_bemi", "_retrace"]);
export const MAX_CONTEXT_BYTES = 64 * 1024;
const MAX_CONTEXT_DEPTH = 64;

export type ParsedContext = { ok: true; json: string } | { ok: false; reason: string };

const utf8 = new TextDecoder("utf-8", { fatal: true });
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * Something the store's jsonb would reject (NUL, unpaired surrogates, absurd nesting) must be
 * refused here: a row the store cannot take would stall the source at that transaction forever.
 */
function storeRejects(root: unknown): string | null {
  const pending: Array<{ value: unknown; depth: number }> = [{ value: root, depth: 0 }];
  for (let item = pending.pop(); item; item = pending.pop()) {
    const { value, depth } = item;
    if (depth > MAX_CONTEXT_DEPTH) return `nested deeper than ${MAX_CONTEXT_DEPTH} levels`;
    const strings: string[] = [];
    if (typeof value === "string") strings.push(value);
    else if (Array.isArray(value)) for (const child of value) pending.push({ value: child, depth: depth + 1 });
    else if (value !== null && typeof value === "object") {
      for (const [key, child] of Object.entries(value)) {
        strings.push(key);
        pending.push({ value: child, depth: depth + 1 });
      }
    }
    for (const text of strings) {
      if (text.includes("\u0000")) return "contains a NUL character";
      if (LONE_SURROGATE.test(text)) return "contains an unpaired surrogate";
    }
  }
  return null;
}

/**
 * Validates a context message's content: a JSON object of at most 64 KiB. On success the
 * original text is kept (not re-serialised) so numbers in it keep every digit.
 */
export function parseContext(content: Uint8Array): ParsedContext {
  if (content.byteLength > MAX_CONTEXT_BYTES) {
    return { ok: false, reason: `context is ${content.byteLength} bytes, over the ${MAX_CONTEXT_BYTES}-byte limit` };
  }
  let text: string;
  let value: unknown;
  try {
    text = utf8.decode(content).trim();
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: "context is not valid UTF-8 JSON" };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { ok: false, reason: "context is not a JSON object" };
  }
  const rejected = storeRejects(value);
  return rejected ? { ok: false, reason: `context ${rejected}` } : { ok: true, json: text };
}
