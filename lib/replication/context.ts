import { normalizeLsn } from "./lsn";

/**
 * Application context carried by transactional logical messages
 * (`pg_logical_emit_message(true, '_retrace', '{"user":"a"}')`). `_retrace` is Retrace's own SDK,
 * `_bemi` is what Bemi's row trigger emits, and Sequin's transaction annotations are `.set` and
 * `.clear` messages. How each kind attaches to row changes: see `contextKind` and rows.ts.
 */
export const RETRACE_PREFIX = "_retrace";
export const BEMI_PREFIX = "_bemi";
export const SEQUIN_SET_PREFIX = "sequin:transaction_annotations.set";
export const SEQUIN_CLEAR_PREFIX = "sequin:transaction_annotations.clear";

/** The limit of a `_retrace` context or a Sequin annotation, in bytes of its JSON text. */
export const MAX_CONTEXT_BYTES = 64 * 1024;
/** A change's context when none applies to it (stored as NULL). */
export const NO_CONTEXT_JSON = "{}";
/** Bemi's own limit on a context (its ORM packages refuse a longer one): characters, not bytes. */
export const MAX_BEMI_CONTEXT_CHARACTERS = 1_000_000;
// A UTF-8 character is at most 4 bytes: past this no text can be within the character limit.
const MAX_BEMI_CONTEXT_BYTES = 4 * MAX_BEMI_CONTEXT_CHARACTERS;

/**
 * What a transactional message does to the context of the row changes after it:
 * - `set`: replaces the context of every later change of the transaction (`_retrace`, Sequin's `.set`);
 * - `clear`: later changes carry none (Sequin's `.clear`);
 * - `next-row`: applies to the one row change that starts where it ends in the WAL, as Bemi's
 *   worker pairs its row trigger's message with that trigger's row (`_bemi`);
 * - null: not a context message.
 */
export type ContextKind = "set" | "clear" | "next-row";

export function contextKind(prefix: string): ContextKind | null {
  switch (prefix) {
    case RETRACE_PREFIX:
    case SEQUIN_SET_PREFIX:
      return "set";
    case BEMI_PREFIX:
      return "next-row";
    case SEQUIN_CLEAR_PREFIX:
      return "clear";
    default:
      return null;
  }
}

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
 * Validates a context message's content: a JSON object of at most 64 KiB (`bemi`: at most
 * 1,000,000 characters, Bemi's limit). On success the original text is kept (not re-serialised)
 * so numbers in it keep every digit.
 */
export function parseContext(content: Uint8Array, limit: "default" | "bemi" = "default"): ParsedContext {
  const bemi = limit === "bemi";
  if (!bemi && content.byteLength > MAX_CONTEXT_BYTES) {
    return { ok: false, reason: `context is ${content.byteLength} bytes, over the ${MAX_CONTEXT_BYTES}-byte limit` };
  }
  const tooLong = `context is over Bemi's ${MAX_BEMI_CONTEXT_CHARACTERS}-character limit`;
  if (bemi && content.byteLength > MAX_BEMI_CONTEXT_BYTES) return { ok: false, reason: tooLong };
  let text: string;
  let value: unknown;
  try {
    text = utf8.decode(content).trim();
    if (bemi && text.length > MAX_BEMI_CONTEXT_CHARACTERS) return { ok: false, reason: tooLong };
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

/** The context state of an open transaction (part of rows.ts's OpenTransaction). */
export type ContextSlots = {
  /** What every later row change carries: set by `_retrace`/Sequin `.set`, emptied by `.clear`. */
  context: string;
  /** A `_bemi` message waiting for the row change it precedes; null when none is waiting. */
  nextRowContext: string | null;
  /** Where that message's WAL record ends: the row change it describes starts right there. */
  nextRowLsn: string | null;
};

/**
 * Applies one transactional message to the transaction's context; returns why it was ignored
 * when it is a context message that cannot be used (never throws: bad context is not fatal).
 * A malformed message still takes effect as "no context": the changes it meant to describe
 * belong to it, not to the context before it.
 */
export function applyContextMessage(
  slots: ContextSlots,
  message: { prefix: string; content: Uint8Array; messageLsn: string | null },
  cache: ContextCache,
): string | null {
  const { prefix, content } = message;
  const kind = contextKind(prefix);
  if (kind === null) return null;
  if (kind === "clear") {
    slots.context = NO_CONTEXT_JSON;
    return null;
  }
  const parsed = cache.parse(content, kind === "next-row" ? "bemi" : "default");
  const json = parsed.ok ? parsed.json : NO_CONTEXT_JSON;
  if (kind === "next-row") {
    slots.nextRowContext = json;
    // pgoutput's message LSN is the end of the message's record (PostgreSQL queues a logical
    // message at its end position), so it is where the trigger's row change starts.
    slots.nextRowLsn = message.messageLsn === null ? null : normalizeLsn(message.messageLsn);
  } else {
    slots.context = json;
  }
  return parsed.ok ? null : parsed.reason;
}

/**
 * The context of a row change (INSERT, UPDATE or DELETE) whose WAL record starts at `walStart`.
 * A waiting `_bemi` message applies to it only if its record ends exactly there, as Bemi's worker
 * pairs them (by position): a row trigger emits it right before writing that row. Either way it
 * waits no longer: changes come in WAL order, so no later one can start there. No allocation:
 * this runs for every row.
 */
export function takeRowContext(slots: ContextSlots, walStart: string | undefined): string {
  const waiting = slots.nextRowContext;
  if (waiting === null) return slots.context;
  slots.nextRowContext = null;
  return walStart !== undefined && walStart === slots.nextRowLsn ? waiting : slots.context;
}

/**
 * parseContext, remembering the last message: a row trigger sends the same context before each
 * row of a statement (Bemi's does), so most messages repeat the one before. A repeat costs a
 * byte comparison instead of decoding, parsing and checking it again, and its rows share one
 * string. The content is copied: the stream's buffers are reused.
 */
export class ContextCache {
  private content: Buffer | null = null;
  private limit: "default" | "bemi" = "default";
  private result: ParsedContext = { ok: true, json: NO_CONTEXT_JSON };

  parse(content: Uint8Array, limit: "default" | "bemi"): ParsedContext {
    if (this.content !== null && limit === this.limit && Buffer.compare(this.content, content) === 0) {
      return this.result;
    }
    this.result = parseContext(content, limit);
    this.content = Buffer.from(content);
    this.limit = limit;
    return this.result;
  }
}
