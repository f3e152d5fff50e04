import { currentContextJson } from "./context.js";
import { isWrite, type StatementFilter } from "./statements.js";

/** The prefix of Retrace's own context messages. */
export const CONTEXT_PREFIX = "_retrace";
// The context is a parameter, never spliced into the SQL; `::text` picks the text overload.
const EMIT_CONTEXT = `select pg_logical_emit_message(true, '${CONTEXT_PREFIX}', $1::text)`;

export type InstrumentOptions = {
  /** `writes` (default): INSERT, UPDATE, DELETE, MERGE, WITH, TRUNCATE, COPY, CALL, DO. `all`: every statement. */
  statements?: StatementFilter;
};

type QueryFunction = (...args: unknown[]) => unknown;
/** What node-postgres's Client and PoolClient look like to the instrumentation. */
type QueryableClient = { query: QueryFunction; getTransactionStatus?: () => string | null };
/** What node-postgres's Pool looks like to it: a client is acquired for every query. */
type PoolLike = {
  on(event: "acquire", listener: (client: QueryableClient) => void): unknown;
  query: QueryFunction;
  connect(): Promise<QueryableClient & { release(error?: Error | boolean): void }>;
};

const INSTRUMENTED = Symbol.for("@retrace/sdk.instrumented");

function isPool(target: object): target is PoolLike {
  return "totalCount" in target && "idleCount" in target && typeof (target as { on?: unknown }).on === "function";
}

function isSubmittable(value: unknown): boolean {
  return typeof value === "object" && value !== null && typeof (value as { submit?: unknown }).submit === "function";
}

function statementText(config: unknown): string | undefined {
  if (typeof config === "string") return config;
  if (typeof config === "object" && config !== null) {
    const text = (config as { text?: unknown }).text;
    if (typeof text === "string") return text;
  }
  return undefined;
}

/**
 * Makes a node-postgres Pool, Client or PoolClient carry the context of `withContext` into the
 * WAL: before each write made inside `withContext`, a transactional
 * `pg_logical_emit_message(true, '_retrace', <context>)` runs in the same transaction, so the
 * Retrace worker stitches the context to exactly the row changes of that statement (up to the
 * next one's). A write outside a transaction is wrapped in BEGIN … COMMIT with its message, so
 * both commit or neither does. Work that rolls back leaves no message behind. Outside
 * `withContext` queries go through unchanged.
 *
 * Instrument a pool once, before use: every client it hands out (to `pool.query`,
 * `pool.connect()`, Drizzle) is instrumented on checkout. Streams and cursors (query objects
 * with `submit`, such as pg-cursor) pass through without context.
 */
export function instrument<T extends object>(target: T, options: InstrumentOptions = {}): T {
  const filter = options.statements ?? "writes";
  if (isPool(target)) {
    const marked = target as T & { [INSTRUMENTED]?: true };
    if (marked[INSTRUMENTED]) return target;
    Object.defineProperty(marked, INSTRUMENTED, { value: true });
    target.on("acquire", (client) => instrumentClient(client, filter));
    instrumentPoolQuery(target);
  } else if (typeof (target as { query?: unknown }).query === "function") {
    instrumentClient(target as unknown as QueryableClient, filter);
  } else {
    throw new TypeError("instrument() takes a node-postgres Pool, Client or PoolClient");
  }
  return target;
}

/**
 * `pool.query` inside withContext. The pool runs a query that waits for a free client from the
 * callback of whichever query frees one, in that query's async context: its context, not this
 * one's, would be read. So the client is checked out here, with `await`, which keeps ours.
 */
function instrumentPoolQuery(pool: PoolLike): void {
  const original = pool.query.bind(pool);
  pool.query = function query(...args: unknown[]): unknown {
    if (currentContextJson() === undefined || isSubmittable(args[0])) return original(...args);
    const callback = typeof args[args.length - 1] === "function" ? (args.pop() as QueryCallback) : undefined;
    const result = (async () => {
      const client = await pool.connect();
      try {
        const value = await client.query(...args);
        client.release();
        return value;
      } catch (error) {
        // As pool.query does: a client whose query failed is not reused.
        client.release(error instanceof Error ? error : true);
        throw error;
      }
    })();
    if (!callback) return result;
    result.then(
      (value) => callback(null, value),
      (error: unknown) => callback(error, undefined),
    );
    return undefined;
  };
}

function instrumentClient(client: QueryableClient, filter: StatementFilter): void {
  const marked = client as QueryableClient & { [INSTRUMENTED]?: true };
  if (marked[INSTRUMENTED]) return;
  Object.defineProperty(marked, INSTRUMENTED, { value: true });
  const original = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
  const status = () => client.getTransactionStatus?.() ?? null;
  // Settles when everything issued so far has: node-postgres runs a client's queries in order,
  // so a write waits on it to read the transaction status its statement will really run in.
  let tail: Promise<unknown> = Promise.resolve();
  // Queries waiting behind a write with context: later ones queue behind them to keep the order.
  let deferred = 0;
  // A context message was emitted in the open transaction: a later write without context must
  // say so (`{}`), or the worker would give it the previous statement's context.
  let contextInTransaction = false;
  const settled = () => {
    if (contextInTransaction && status() !== "T" && status() !== "E") contextInTransaction = false;
  };

  const run = async (json: string | null, args: unknown[]): Promise<unknown> => {
    const now = status();
    if (now === "E") return original(...args); // fails as it would have: the transaction is aborted
    if (now === "T") {
      if (json === null && !contextInTransaction) return original(...args);
      await original(EMIT_CONTEXT, [json ?? "{}"]);
      contextInTransaction = true;
      return original(...args);
    }
    if (json === null) return original(...args);
    await original("BEGIN");
    try {
      await original(EMIT_CONTEXT, [json]);
      const result = await original(...args);
      await original("COMMIT");
      return result;
    } catch (error) {
      await original("ROLLBACK").catch(() => undefined);
      throw error;
    }
  };

  client.query = function query(...args: unknown[]): unknown {
    if (isSubmittable(args[0])) return original(...args);
    const json = currentContextJson();
    if (json === undefined && deferred === 0 && !contextInTransaction) {
      // Not in withContext and nothing pending: the query goes through as it is.
      const last = args[args.length - 1];
      if (typeof last === "function") {
        // Callback form: the tail settles when the callback is called.
        tail = new Promise((resolve) => {
          args[args.length - 1] = (...results: unknown[]) => {
            resolve(undefined);
            return (last as (...results: unknown[]) => unknown)(...results);
          };
        });
        return original(...args);
      }
      const result = original(...args);
      if (result instanceof Promise) tail = result.then(settled, settled);
      return result;
    }
    const callback = typeof args[args.length - 1] === "function" ? (args.pop() as QueryCallback) : undefined;
    const text = statementText(args[0]);
    const write = text !== undefined && (filter === "all" || isWrite(text));
    deferred++;
    const result = tail.then(() => (write ? run(json ?? null, args) : original(...args)));
    tail = result.then(settled, settled).then(() => {
      deferred--;
    });
    if (!callback) return result;
    result.then(
      (value) => callback(null, value),
      (error: unknown) => callback(error, undefined),
    );
    return undefined;
  };
}

type QueryCallback = (error: unknown, result: unknown) => void;
