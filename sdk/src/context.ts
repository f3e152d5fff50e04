import { AsyncLocalStorage } from "node:async_hooks";

/** JSON values a context may hold. */
export type ContextValue = string | number | boolean | null | ContextValue[] | { [key: string]: ContextValue };
/** The application context of a piece of work: who, which endpoint, which job, … */
export type RetraceContext = { [key: string]: ContextValue | undefined };

/**
 * The largest context, in bytes of its JSON text, that the Retrace worker keeps for a `_retrace`
 * message; a larger one would be dropped there, so it is refused here, where the caller can see it.
 */
export const MAX_CONTEXT_BYTES = 64 * 1024;

export class ContextTooLargeError extends Error {
  readonly code = "context_too_large";
  constructor(readonly bytes: number) {
    super(`Retrace context is ${bytes} bytes of JSON, over the ${MAX_CONTEXT_BYTES}-byte limit`);
    this.name = "ContextTooLargeError";
  }
}

/** What is in force inside `withContext`: the merged context and its JSON text, made once. */
type ActiveContext = { context: RetraceContext; json: string };

const storage = new AsyncLocalStorage<ActiveContext>();

/**
 * Runs `fn` with `context` in force: every write an instrumented pool or client makes inside it,
 * however deep in async calls, carries the context into the source's WAL. Nested calls merge
 * (the inner keys win) and restore the outer context when they return. Throws
 * ContextTooLargeError (before running `fn`) when the JSON is over MAX_CONTEXT_BYTES. Await
 * the work inside `fn` (or return it): a query started after `fn` returned runs without it.
 */
export function withContext<T>(context: RetraceContext, fn: () => T): T {
  const outer = storage.getStore();
  const merged = outer ? { ...outer.context, ...context } : { ...context };
  const json = JSON.stringify(merged);
  const bytes = Buffer.byteLength(json, "utf8");
  if (bytes > MAX_CONTEXT_BYTES) throw new ContextTooLargeError(bytes);
  return storage.run({ context: merged, json }, () => {
    const result = fn();
    // A lazy thenable (a Drizzle query builder runs when awaited) is started in here, with the
    // context in force, rather than by an `await` outside it.
    if (isLazyThenable(result)) return Promise.resolve(result) as T;
    return result;
  });
}

function isLazyThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    !(value instanceof Promise) &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/** The context in force (merged), or undefined outside `withContext`. */
export function currentContext(): Readonly<RetraceContext> | undefined {
  return storage.getStore()?.context;
}

/** The JSON text of the context in force: what a statement's message carries. */
export function currentContextJson(): string | undefined {
  return storage.getStore()?.json;
}
