import { and, eq, isNull, sql } from "drizzle-orm";
import type { Queryable } from "../db/client";
import {
  changeSeals,
  changes,
  changeContexts,
  changeRollups,
  changeSegments,
  sealCheckpoints,
  sources,
  trackedTables,
  trailTables,
} from "../db/schema";
import type { OriginalIdentity } from "../db/schema/sources";
import { encryptSecret } from "../crypto/secrets";
import type { SourceConnection } from "./connection";
import type { SourceIdentity } from "./identity-queries";
import type { TableRef } from "./input";
import { replicationNamesFor, type ReplicationNames } from "./provision";
import { getSource, type SourceSummary } from "./queries";
import type { RelationFacts } from "./relations";
import { rememberRelations } from "./remembered-relations";

/**
 * A source's rows in the store from connecting to removal: created with its tracked tables (the
 * password encrypted), marked removed with its changes kept, or deleted with them.
 */

export type NewSource = SourceConnection &
  ReplicationNames & {
    id: string;
    name: string;
    environment: string;
    hostKind?: string | null;
    identity: SourceIdentity;
    tables: readonly TableRef[];
    /** The source catalog's facts of the tables and their partitions (provisionSource). */
    relations: readonly RelationFacts[];
    /** By "schema\u0000table": the replica identities Retrace changed, as they were (provision.ts). */
    originalIdentities?: ReadonlyMap<string, OriginalIdentity[]>;
    trackNewTables?: boolean;
  };

/**
 * Inserts a source, its tracked tables and what the store remembers of their relations; the
 * password is stored encrypted with `secret`.
 */
export async function createSource(db: Queryable, input: NewSource, secret: string): Promise<SourceSummary> {
  return db.transaction(async (tx) => {
    await tx.insert(sources).values({
      id: input.id,
      name: input.name,
      host: input.host,
      port: input.port,
      database: input.database,
      username: input.username,
      passwordEncrypted: encryptSecret(input.password, secret),
      sslMode: input.sslMode,
      sslRootCert: input.sslRootCert ?? null,
      hostKind: input.hostKind ?? null,
      environment: input.environment,
      systemIdentifier: input.identity.systemIdentifier,
      databaseOid: input.identity.databaseOid,
      slotName: input.slotName,
      publicationName: input.publicationName,
      trackNewTables: input.trackNewTables ?? false,
    });
    if (input.tables.length > 0) {
      await tx.insert(trackedTables).values(
        input.tables.map((t) => ({
          sourceId: input.id,
          schema: t.schema,
          table: t.table,
          originalIdentities: input.originalIdentities?.get(`${t.schema}\u0000${t.table}`) ?? [],
        })),
      );
    }
    await rememberRelations(tx, input.id, input.relations);
    const created = await getSource(tx, input.id);
    if (!created) throw new Error("source insert returned nothing");
    return created;
  });
}

/**
 * Deletes the source with its tracked tables (ON DELETE CASCADE) and its captured changes, in one
 * transaction. `changes` has no foreign key (it would cost every insert an RI check), so the
 * changes are deleted here, and AFTER the source row: a worker's store commit updates that row in
 * the same transaction as its inserts, so deleting it first waits for a commit in flight, whose
 * rows the next statement then sees (READ COMMITTED takes a new snapshot per statement). A later
 * commit finds no source row to advance and fails, so no change can outlive its source. Its part of
 * the change summary (segments, rollups, contexts, tables) goes with them.
 */
export async function deleteSource(db: Queryable, id: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const deleted = await tx.delete(sources).where(eq(sources.id, id)).returning({ id: sources.id });
    await tx.delete(changes).where(eq(changes.sourceId, id));
    await tx.delete(changeSegments).where(eq(changeSegments.sourceId, id));
    await tx.delete(changeRollups).where(eq(changeRollups.sourceId, id));
    await tx.delete(changeContexts).where(eq(changeContexts.sourceId, id));
    await tx.delete(trailTables).where(eq(trailTables.sourceId, id));
    await tx.delete(changeSeals).where(eq(changeSeals.sourceId, id));
    await tx.delete(sealCheckpoints).where(eq(sealCheckpoints.sourceId, id));
    return deleted.length > 0;
  });
}

/**
 * Marks a source removed, keeping its captured changes (and its row, which the change filters resolve a
 * database name and an environment through): disabled for good, password wiped, tracked tables (and the
 * identities remembered with them) gone. False when there is no such source or it was removed already.
 */
export async function markSourceRemoved(db: Queryable, id: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const updated = await tx
      .update(sources)
      .set({
        removedAt: sql`now()`,
        enabled: false,
        status: "paused",
        passwordEncrypted: "",
        lastError: null,
        lastErrorFix: null,
        failingSince: null,
        lagBytes: null,
        lagSeconds: null,
        lagMeasuredAt: null,
      })
      .where(and(eq(sources.id, id), isNull(sources.removedAt)))
      .returning({ id: sources.id });
    await tx.delete(trackedTables).where(eq(trackedTables.sourceId, id));
    return updated.length > 0;
  });
}

/** What an archive's manifest says of its database (lib/archive/manifest.ts). */
export type ArchivedSource = { id: string; name: string; environment: string; database: string };

/**
 * Recreates a database an archive is of, when the store no longer has it (deleted with its changes) or never had it
 * (another store): in the state a database removed keeping its changes is in (markSourceRemoved), under the
 * archive's id, name, environment and database name, so that its imported changes are listed and searched under
 * them. Where it was (host, port, user) is not in the archive: left empty. True when created; false when the store
 * has a database of that id already.
 */
export async function recreateRemovedSource(db: Queryable, source: ArchivedSource): Promise<boolean> {
  const created = await db
    .insert(sources)
    .values({
      id: source.id,
      name: source.name,
      environment: source.environment,
      database: source.database,
      host: "",
      port: 0,
      username: "",
      passwordEncrypted: "",
      ...replicationNamesFor(source.id),
      enabled: false,
      status: "paused",
      removedAt: sql`now()`,
    })
    .onConflictDoNothing({ target: sources.id })
    .returning({ id: sources.id });
  return created.length > 0;
}
