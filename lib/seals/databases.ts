import type pg from "pg";
import { NotFound } from "../errors";
import type { DatabaseVerification } from "./types";
import { verifySource } from "./verify";

export type { DatabaseVerification };

/**
 * Verifies the trail of one database (by id or name) or of every database. A name held by several
 * databases verifies each of them.
 */
export async function verifyDatabases(
  pool: pg.Pool,
  secret: string,
  options: { database?: string; from?: Date } = {},
): Promise<DatabaseVerification[]> {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  const { rows } = await pool.query<{ id: string; name: string }>(
    options.database === undefined
      ? "select id::text, name from sources order by name, created_at"
      : `select id::text, name from sources where ${uuid.test(options.database) ? "id::text = $1 or " : ""}name = $1
         order by name, created_at`,
    options.database === undefined ? [] : [options.database],
  );
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
