import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import pg from "pg";
import * as schema from "./schema";

export type Db = NodePgDatabase<typeof schema>;
export type Store = { db: Db; pool: pg.Pool };

export function connectStore(url: string, options: { max?: number; name?: string } = {}): Store {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    application_name: options.name ?? "retrace",
  });
  // An idle client that loses its server (store restart) must not crash the process.
  pool.on("error", () => undefined);
  return { db: drizzle(pool, { schema }), pool };
}

/** A transaction handle; query functions accept either it or the database. */
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
export type Queryable = Db | Tx;
