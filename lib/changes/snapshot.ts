import type { Db, Queryable } from "../db/client";

/**
 * Runs `work` on one snapshot of the store (a read-only REPEATABLE READ transaction), so that the several
 * statements of a list (sources, summary, rows, live token) see the same committed changes. Inside a transaction
 * already, `work` runs in it.
 */
export async function inSnapshot<T>(db: Queryable, work: (db: Queryable) => Promise<T>): Promise<T> {
  if (!isDatabase(db)) return work(db);
  return db.transaction(work, { isolationLevel: "repeatable read", accessMode: "read only" });
}

// drizzle's database holds its pool as $client; a transaction handle has none.
function isDatabase(db: Queryable): db is Db {
  return "$client" in db;
}

/**
 * The items of `produce`, all read in one snapshot of the store (a read-only REPEATABLE READ transaction held
 * from the first item to the last), one at a time as the caller asks for them: nothing is read ahead. Ending the
 * iteration early (`return()`, a `for await` left, a client gone) ends the transaction and gives its connection
 * back to the pool before `return()` settles. Inside a transaction already, `produce` runs in it.
 */
export async function* streamInSnapshot<T>(
  db: Queryable,
  produce: (db: Queryable) => AsyncIterable<T>,
): AsyncGenerator<T, void, undefined> {
  if (!isDatabase(db)) {
    yield* produce(db);
    return;
  }
  // The transaction runs on its own; the two sides meet through two mailboxes: the caller asks for one more item
  // (or says it wants no more), the transaction hands over the next item, the end, or its error.
  const wants = new Mailbox<boolean>();
  const items = new Mailbox<{ item: T } | { done: true } | { error: unknown }>();
  const running = inSnapshot(db, async (tx) => {
    const iterator = produce(tx)[Symbol.asyncIterator]();
    try {
      while (await wants.take()) {
        const next = await iterator.next();
        if (next.done) return;
        items.put({ item: next.value });
      }
    } finally {
      await iterator.return?.();
    }
  }).then(
    () => items.put({ done: true }),
    (error: unknown) => items.put({ error }),
  );
  let finished = false;
  try {
    for (;;) {
      wants.put(true);
      const step = await items.take();
      if ("error" in step) {
        finished = true;
        throw step.error;
      }
      if ("done" in step) {
        finished = true;
        return;
      }
      yield step.item;
    }
  } finally {
    if (!finished) wants.put(false);
    await running;
  }
}

/** One value at a time from one side to the other, in order; `take` waits for a value not yet put. */
class Mailbox<T> {
  private values: T[] = [];
  private waiting: Array<(value: T) => void> = [];

  put(value: T): void {
    const waiter = this.waiting.shift();
    if (waiter) waiter(value);
    else this.values.push(value);
  }

  take(): Promise<T> {
    if (this.values.length > 0) return Promise.resolve(this.values.shift() as T);
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}
