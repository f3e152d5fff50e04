import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import { connectStore } from "./client";
import { explainStoreError } from "./connection";

/**
 * The project's drizzle/ folder: the nearest one above this module, which is lib/db/ in the source
 * tree and dist/ in the worker's bundle (lib/cli/processes.ts).
 */
function migrationsFolder(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ;) {
    const candidate = path.join(dir, "drizzle");
    if (fs.existsSync(path.join(candidate, "meta", "_journal.json"))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("The drizzle/ migrations folder was not found above lib/db");
    dir = parent;
  }
}

/**
 * Applies the generated migrations in drizzle/. Safe to run concurrently from web and worker. It is the first
 * thing every process does with the store, so a store it cannot open or use fails here with what to change
 * (lib/db/connection.ts explainStoreError). Needs no superuser: the role owns the database, or has CREATE on it
 * (for the `drizzle` schema that records the migrations) and on schema public (README, "Running the store on a
 * managed PostgreSQL").
 */
export async function migrateStore(url: string): Promise<void> {
  const { db, pool } = connectStore(url, { max: 1, name: "retrace-migrate" });
  try {
    // The advisory lock serialises concurrent start-ups (web and worker both migrate).
    await pool.query("select pg_advisory_lock(7365281001)");
    await migrate(db, { migrationsFolder: migrationsFolder() });
  } catch (error) {
    throw explainStoreError(error, url);
  } finally {
    await pool.end();
  }
}
