import { asc, eq, inArray } from "drizzle-orm";
import type { Queryable } from "../db/client";
import { sources, trackedTables } from "../db/schema";
import type { OriginalIdentity } from "../db/schema/sources";
import type { TableRef } from "./input";
import type { RelationFacts } from "./relations";
import { rememberRelations } from "./remembered-relations";

/**
 * The store's tracked tables of a source: listing them, replacing the set, adding the ones the
 * new-tables trigger published, and what Retrace changed of their replica identities.
 */

export type TrackedTableRow = { schema: string; table: string; createdAt: Date };

/** What the store remembers Retrace changed of each tracked table's replica identities, by "schema\u0000table". */
export async function trackedOriginalIdentities(
  db: Queryable,
  sourceId: string,
): Promise<Map<string, OriginalIdentity[]>> {
  const rows = await db
    .select({
      schema: trackedTables.schema,
      table: trackedTables.table,
      originalIdentities: trackedTables.originalIdentities,
    })
    .from(trackedTables)
    .where(eq(trackedTables.sourceId, sourceId));
  return new Map(rows.map((r) => [`${r.schema}\u0000${r.table}`, r.originalIdentities]));
}

/** Tables the source publishes for Retrace that the store does not list yet (created since, tracked by the trigger). */
export async function addTrackedTables(db: Queryable, sourceId: string, tables: readonly TableRef[]): Promise<void> {
  if (tables.length === 0) return;
  await db
    .insert(trackedTables)
    .values(
      tables.map((t) => ({
        sourceId,
        schema: t.schema,
        table: t.table,
        // Created after connecting, the trigger set FULL on a table that had the default.
        originalIdentities: [{ schema: t.schema, name: t.table, relreplident: "d", identityIndex: null }],
      })),
    )
    .onConflictDoNothing();
}

export async function listTrackedTables(db: Queryable, sourceId: string): Promise<TrackedTableRow[]> {
  return db
    .select({ schema: trackedTables.schema, table: trackedTables.table, createdAt: trackedTables.createdAt })
    .from(trackedTables)
    .where(eq(trackedTables.sourceId, sourceId))
    .orderBy(asc(trackedTables.schema), asc(trackedTables.table));
}

/**
 * Replaces the tracked set (tables kept keep their original tracking date) and remembers what
 * the source catalog says of their relations (those of tables no longer tracked stay: changes
 * made before may still be decoded).
 */
export async function setTrackedTables(
  db: Queryable,
  sourceId: string,
  tables: readonly TableRef[],
  relations: readonly RelationFacts[],
  /** Of newly tracked tables: the identities Retrace changed, as they were ("schema\u0000table" keys). */
  originalIdentities: ReadonlyMap<string, OriginalIdentity[]> = new Map(),
): Promise<TrackedTableRow[]> {
  return db.transaction(async (tx) => {
    // Serialise concurrent edits of the same source's set.
    await tx.select({ id: sources.id }).from(sources).where(eq(sources.id, sourceId)).for("update");
    const current = await tx
      .select({ id: trackedTables.id, schema: trackedTables.schema, table: trackedTables.table })
      .from(trackedTables)
      .where(eq(trackedTables.sourceId, sourceId));
    const key = (t: TableRef) => `${t.schema}\u0000${t.table}`;
    const wanted = new Set(tables.map(key));
    const stale = current.filter((t) => !wanted.has(key(t))).map((t) => t.id);
    if (stale.length > 0) await tx.delete(trackedTables).where(inArray(trackedTables.id, stale));
    if (tables.length > 0) {
      await tx
        .insert(trackedTables)
        .values(
          tables.map((t) => ({
            sourceId,
            schema: t.schema,
            table: t.table,
            originalIdentities: originalIdentities.get(`${t.schema}\u0000${t.table}`) ?? [],
          })),
        )
        // A table tracked already keeps what it had before Retrace first changed it.
        .onConflictDoNothing();
    }
    await rememberRelations(tx, sourceId, relations);
    return listTrackedTables(tx, sourceId);
  });
}
