import { instrument, type InstrumentOptions } from "./pg.js";

/**
 * Instruments a Drizzle database on the node-postgres driver (`drizzle(pool)` or
 * `drizzle({ client })`): its pool or client carries the context of `withContext`, in
 * `db.insert(…)`, `db.execute(…)` and `db.transaction(…)` alike. Returns the same database.
 */
export function instrumentDrizzle<T extends { $client: object }>(db: T, options: InstrumentOptions = {}): T {
  instrument(db.$client, options);
  return db;
}
