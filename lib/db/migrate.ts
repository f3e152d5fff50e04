import path from "node:path";
import { fileURLToPath } from "node:url";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import { connectStore } from "./client";

const migrationsFolder = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../drizzle");

/** Applies the generated migrations in drizzle/. Safe to run concurrently from web and worker. */
export async function migrateStore(url: string): Promise<void> {
  const { db, pool } = connectStore(url, { max: 1, name: "retrace-migrate" });
  try {
    // The advisory lock serialises concurrent start-ups (web and worker both migrate).
    await pool.query("select pg_advisory_lock(7365281001)");
    await migrate(db, { migrationsFolder });
  } finally {
    await pool.end();
  }
}
