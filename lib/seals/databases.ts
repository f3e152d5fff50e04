import type pg from "pg";
import { storeDb } from "../db/client";
import { NotFound } from "../errors";
import { databasesNamed, type NamedDatabase } from "../sources/lookup";
import type { DatabaseVerification } from "./types";
import { verifySource } from "./verify";

export type { DatabaseVerification };

/**
 * Verifies the trail of one database (by id or name: lib/sources/lookup.ts) or of every database. A name held by
 * several databases verifies each of them.
 */
export async function verifyDatabases(
  pool: pg.Pool,
  secret: string,
  options: { database?: string; from?: Date } = {},
): Promise<DatabaseVerification[]> {
  const rows =
    options.database === undefined
      ? (await pool.query<NamedDatabase>("select id::text, name from sources order by name, created_at")).rows
      : await databasesNamed(storeDb(pool), options.database);
  if (options.database !== undefined && rows.length === 0) throw new NotFound(`Database "${options.database}"`);
  const results: DatabaseVerification[] = [];
  for (const row of rows) {
    results.push({ ...(await verifySource(pool, row.id, secret, { from: options.from })), name: row.name });
  }
  return results;
}

/** One line per database, as the CLI prints it. */
export function describeVerification(result: DatabaseVerification): string {
  if (!result.ok) return `FAILED ${result.name} (${result.sourceId}): ${result.problem}: ${result.message}`;
  const upTo = result.upTo
    ? ` up to change ${result.upTo.id} (${result.upTo.table}, key ${result.upTo.primaryKey ?? "none"})`
    : "";
  const unsealed = result.unsealed ? `; ${result.unsealed} newer not sealed yet` : "";
  const expired = result.expired ? `; ${result.expired} expired by retention` : "";
  const count = `${result.verified} change${result.verified === 1 ? "" : "s"}`;
  return `OK ${result.name} (${result.sourceId}): ${count} verified${upTo}${unsealed}${expired}`;
}
