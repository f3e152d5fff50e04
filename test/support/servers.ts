/** A store server and a source server for the worker's integration tests, and sources on them. */
import pg from "pg";
import { encryptSecret } from "../../lib/crypto/secrets";
import { connectStore } from "../../lib/db/client";
import { migrateStore } from "../../lib/db/migrate";
import { connectDatabase } from "../../lib/sources/connect-database";
import { updateTrackedTables } from "../../lib/sources/tracked-tables";
import { parseLsn } from "../../lib/replication/lsn";
import { startTestServer, type TestServer } from "./postgres";

/** The secret test workers run with (test/support/worker.ts) and source passwords are stored with. */
export const SECRET = "worker-integration-test-secret-0123456789";

export type Servers = {
  store: TestServer;
  source: TestServer;
  storeUrl: string;
  sourceUrl: string;
  storePool: pg.Pool;
  sourcePool: pg.Pool;
  storeQuery: <T extends pg.QueryResultRow>(sql: string, params?: unknown[]) => Promise<T[]>;
  sourceQuery: <T extends pg.QueryResultRow>(sql: string, params?: unknown[]) => Promise<T[]>;
  stop(): Promise<void>;
};

/**
 * Starts a store server (migrated `retrace` database) and a source server (`app` database).
 * The source records commit timestamps unless other flags are given, so tests can compare
 * committed_at with the source's own record to the microsecond.
 */
export async function startServers(options: { storeFlags?: string[]; sourceFlags?: string[] } = {}): Promise<Servers> {
  const started = await Promise.allSettled([
    startTestServer({ flags: options.storeFlags }),
    startTestServer({ flags: options.sourceFlags ?? ["-c", "track_commit_timestamp=on"] }),
  ]);
  const [storeResult, sourceResult] = started;
  if (storeResult?.status !== "fulfilled" || sourceResult?.status !== "fulfilled") {
    await Promise.allSettled(started.map((r) => (r.status === "fulfilled" ? r.value.stop() : undefined)));
    const reason = started.find((r): r is PromiseRejectedResult => r.status === "rejected")?.reason;
    throw new Error(
      `Could not start the PostgreSQL servers: ${reason instanceof Error ? reason.message : String(reason)}`,
    );
  }
  const store = storeResult.value;
  const source = sourceResult.value;
  try {
    const storeUrl = await store.createDatabase("retrace");
    const sourceUrl = await source.createDatabase("app");
    await migrateStore(storeUrl);
    const storePool = new pg.Pool({ connectionString: storeUrl, max: 3 });
    const sourcePool = new pg.Pool({ connectionString: sourceUrl, max: 3 });
    storePool.on("error", () => undefined);
    sourcePool.on("error", () => undefined);
    return {
      store,
      source,
      storeUrl,
      sourceUrl,
      storePool,
      sourcePool,
      storeQuery: async (sql, params) => (await storePool.query(sql, params)).rows,
      sourceQuery: async (sql, params) => (await sourcePool.query(sql, params)).rows,
      async stop() {
        await Promise.allSettled([storePool.end(), sourcePool.end()]);
        await Promise.allSettled([store.stop(), source.stop()]);
      },
    };
  } catch (error) {
    await Promise.allSettled([store.stop(), source.stop()]);
    throw error;
  }
}

/**
 * Registers a database of the source server in the store the way the web app does; returns its
 * id. By default the `app` database at localhost on the source server's own port.
 */
export async function addSource(
  servers: Servers,
  options: {
    slotName: string;
    publicationName: string;
    environment?: string;
    sslMode?: "disable" | "prefer" | "require";
    /** The secret its password is encrypted with (the workers' SECRET unless given). */
    secret?: string;
    host?: string;
    /** A port in front of the source server (a TCP proxy), if not the server's own. */
    port?: number;
    /** The database, which also names the source. */
    database?: string;
    /** The role it connects as (the server's superuser `postgres` unless given), and its password. */
    username?: string;
    password?: string;
  },
): Promise<string> {
  const database = options.database ?? "app";
  const [row] = await servers.storeQuery<{ id: string }>(
    `insert into sources (name, host, port, database, username, password_encrypted, ssl_mode, environment,
                          slot_name, publication_name)
     values ($7, $8, $1, $7, $9, $2, $6, $3, $4, $5) returning id`,
    [
      options.port ?? servers.source.port,
      encryptSecret(options.password ?? servers.source.password, options.secret ?? SECRET),
      options.environment ?? "test",
      options.slotName,
      options.publicationName,
      options.sslMode ?? "disable",
      database,
      options.host ?? "localhost",
      options.username ?? "postgres",
    ],
  );
  if (!row) throw new Error("no source id");
  return row.id;
}

/**
 * Tracks existing source tables the way connecting a source does: REPLICA IDENTITY FULL on each,
 * a publication for them (optionally publishing partitions as their root), a pgoutput slot, and
 * the source registered in the store. Returns the source id.
 */
export async function trackTables(
  servers: Servers,
  options: { tables: string[]; publication: string; slot: string; viaRoot?: boolean },
): Promise<string> {
  const { tables, publication, slot } = options;
  const viaRoot = options.viaRoot ? " with (publish_via_partition_root = true)" : "";
  await servers.sourceQuery(`
    ${tables.map((table) => `alter table ${table} replica identity full;`).join("\n")}
    create publication ${publication} for table ${tables.join(", ")}${viaRoot};
  `);
  await servers.sourceQuery("select pg_create_logical_replication_slot($1, 'pgoutput')", [slot]);
  return addSource(servers, { slotName: slot, publicationName: publication });
}

export async function confirmedFlush(servers: Servers, slotName: string): Promise<bigint> {
  const [row] = await servers.sourceQuery<{ lsn: string }>(
    "select confirmed_flush_lsn::text as lsn from pg_replication_slots where slot_name = $1",
    [slotName],
  );
  if (!row) throw new Error(`no slot ${slotName}`);
  return parseLsn(row.lsn);
}

/**
 * Connects a database of the source server and tracks `tables` ("schema.table") the way the web
 * app does (lib/sources/connect-database.ts: checks, publication, REPLICA IDENTITY FULL, slot, and the
 * store's rows, remembered relations included); returns the source id. One per database: a
 * database is connected once.
 */
export async function connectThroughRetrace(
  servers: Servers,
  options: { tables: string[]; database?: string; environment?: string },
): Promise<string> {
  const store = connectStore(servers.storeUrl, { max: 1 });
  try {
    const created = await connectDatabase(store.db, SECRET, {
      host: "localhost",
      port: servers.source.port,
      database: options.database ?? "app",
      username: "postgres",
      password: servers.source.password,
      sslMode: "disable",
      environment: options.environment ?? "test",
      tables: options.tables,
    });
    return created.id;
  } finally {
    await store.pool.end();
  }
}

/** Makes a connected source track exactly `tables`, the way saving the table picker does. */
export async function saveTrackedTables(servers: Servers, sourceId: string, tables: string[]): Promise<void> {
  const store = connectStore(servers.storeUrl, { max: 1 });
  try {
    await updateTrackedTables(store.db, SECRET, sourceId, { tables });
  } finally {
    await store.pool.end();
  }
}
