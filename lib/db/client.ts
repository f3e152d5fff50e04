import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import type { Duplex } from "node:stream";
import pg from "pg";
import { storeClientConfig } from "./connection";
import * as schema from "./schema";

export type Db = NodePgDatabase<typeof schema>;
export type Store = { db: Db; pool: pg.Pool };

export function connectStore(url: string, options: { max?: number; name?: string } = {}): Store {
  // DATABASE_URL's TLS parameters mean what libpq says they mean (lib/db/connection.ts).
  const pool = new pg.Pool({ ...storeClientConfig(url, options.name ?? "retrace"), max: options.max ?? 10 });
  // A client that loses its server (store restart, network cut) must not crash the process.
  // pg-pool listens for errors only on idle clients; a checked-out client whose connection
  // drops emits 'error' with no listener, so every client gets one. The query in flight
  // rejects with the same error, and that is where it is handled.
  pool.on("error", () => undefined);
  pool.on("connect", (client) => client.on("error", () => undefined));
  return { db: storeDb(pool), pool };
}

/**
 * Drizzle over a pool that is already there (the worker writes rows through the pool itself), or over one client
 * of it, within the transaction that client has begun (an archive import's audit row).
 */
export function storeDb(pool: pg.Pool | pg.PoolClient): Db {
  return drizzle(pool, { schema });
}

/** A transaction handle; query functions accept either it or the database. */
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
export type Queryable = Db | Tx;

/**
 * The socket under a pg client: pg keeps it as `connection.stream`, outside its types. Used to
 * write a COPY ahead of its turn (lib/changes/copy-in.ts) and to pause a replication stream
 * (lib/replication/plugin.ts), which is also how pg-logical-replication's flow control does it.
 */
export function clientSocket(client: pg.ClientBase): Duplex {
  const socket = (client as unknown as { connection?: { stream?: Duplex } }).connection?.stream;
  if (!socket) throw new Error("pg client without a connection stream");
  return socket;
}
