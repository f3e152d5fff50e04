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
