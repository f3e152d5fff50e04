import pg from "pg";
import { migrateStore } from "@/lib/db/migrate";
import type { TestServer } from "./postgres";

/**
 * A migrated store in a database of its own on `server`, and one source in it that nothing streams (its changes
 * are written by the test): for tests of what reads and seals the trail.
 */
export async function bareStore(server: TestServer, maxConnections = 3): Promise<{ pool: pg.Pool; sourceId: string }> {
  const url = await server.createDatabase("retrace");
  await migrateStore(url);
  const pool = new pg.Pool({ connectionString: url, max: maxConnections });
  // A connection the server drops while it stops is no failure of the test.
  pool.on("error", () => undefined);
  const { rows } = await pool.query<{ id: string }>(
    `insert into sources (name, host, port, database, username, password_encrypted, ssl_mode, environment, slot_name,
                          publication_name)
     values ('app', 'db.invalid', 5432, 'app', 'u', 'x', 'disable', 'test', 's', 'p') returning id::text`,
  );
  return { pool, sourceId: rows[0]?.id ?? "" };
}
