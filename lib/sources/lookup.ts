import { sql } from "drizzle-orm";
import type { Queryable } from "../db/client";
import { Invalid, NotFound } from "../errors";

/**
 * Naming a database the way people do on the command line and in the API: by its id, or by its name when no id is
 * given. Removed databases count too (their changes stay, and so does the row that names them).
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `text` is a uuid (any case), as the store's ids are written. */
export function isUuid(text: string): boolean {
  return UUID.test(text);
}

export type NamedDatabase = { id: string; name: string };

/**
 * The databases `text` names: the one whose id it is (when it is one's id, a database that happens to be named so
 * does not count), else every database of that name, oldest first. Empty when none.
 */
export async function databasesNamed(db: Queryable, text: string): Promise<NamedDatabase[]> {
  if (isUuid(text)) {
    const byId = await db.execute<NamedDatabase>(sql`select id::text, name from sources where id = ${text}::uuid`);
    if (byId.rows.length > 0) return byId.rows;
  }
  const byName = await db.execute<NamedDatabase>(sql`
    select id::text, name from sources where name = ${text} order by created_at, id`);
  return byName.rows;
}

/**
 * The one database `text` names (databasesNamed): NotFound when none; Invalid (the parameter `database`) naming
 * every id when several databases have that name, so the caller can give one.
 */
export async function findDatabase(db: Queryable, text: string): Promise<NamedDatabase> {
  const found = await databasesNamed(db, text);
  const [only] = found;
  if (!only) throw new NotFound(`Database "${text}"`);
  if (found.length > 1) {
    const ids = found.map((row) => row.id).join(", ");
    const message = `${found.length} databases are named "${text}"; give one's id: ${ids}`;
    throw new Invalid(`database: ${message}`, [{ path: "database", message }]);
  }
  return only;
}
