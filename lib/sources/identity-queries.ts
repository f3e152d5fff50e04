import { and, eq, isNull } from "drizzle-orm";
import type { Queryable } from "../db/client";
import { sources } from "../db/schema";

/**
 * Which database of which cluster each stored source is (lib/sources/identity.ts asks the
 * server): looking a source up by it, and storing it for sources connected before it was kept.
 */

/** Which database a source is, as its server says (lib/sources/identity.ts). */
export type SourceIdentity = { systemIdentifier: string; databaseOid: number };

/** Enough of a stored source to name it in a message. */
export type ConnectedSource = { id: string; name: string; host: string; port: number; database: string };

/** The unique index on (system_identifier, database_oid). */
export const SOURCE_IDENTITY_INDEX = "sources_system_database";

const connectedColumns = {
  id: sources.id,
  name: sources.name,
  host: sources.host,
  port: sources.port,
  database: sources.database,
};

/** A unique index refused the row: node-postgres's SQLSTATE, as drizzle wraps it in `cause`. */
export function isUniqueViolation(error: unknown, constraint: string): boolean {
  for (let e: unknown = error; typeof e === "object" && e !== null; e = (e as { cause?: unknown }).cause) {
    const { code, constraint: name } = e as { code?: unknown; constraint?: unknown };
    if (code === "23505") return name === constraint;
  }
  return false;
}

/** The source connected to that database of that cluster, if any (a removed one is no longer connected). */
export async function findSourceByIdentity(db: Queryable, identity: SourceIdentity): Promise<ConnectedSource | null> {
  const [row] = await db
    .select(connectedColumns)
    .from(sources)
    .where(
      and(
        eq(sources.systemIdentifier, identity.systemIdentifier),
        eq(sources.databaseOid, identity.databaseOid),
        isNull(sources.removedAt),
      ),
    );
  return row ?? null;
}

/** Sources connected before identities were kept (migration 0007) and not reached since. */
export async function listUnidentifiedSources(db: Queryable): Promise<ConnectedSource[]> {
  return db
    .select(connectedColumns)
    .from(sources)
    .where(and(isNull(sources.systemIdentifier), isNull(sources.removedAt)));
}

/**
 * Stores the identity of a source that has none yet. False when another source already holds
 * it: the same database was connected twice before identities were kept, and this one stays
 * unidentified (removing either is up to the user).
 */
export async function recordSourceIdentity(db: Queryable, id: string, identity: SourceIdentity): Promise<boolean> {
  try {
    await db
      .update(sources)
      .set({ systemIdentifier: identity.systemIdentifier, databaseOid: identity.databaseOid })
      .where(and(eq(sources.id, id), isNull(sources.systemIdentifier)));
    return true;
  } catch (error) {
    if (isUniqueViolation(error, SOURCE_IDENTITY_INDEX)) return false;
    throw error;
  }
}
