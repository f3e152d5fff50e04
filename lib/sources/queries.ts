import { and, asc, eq, inArray, isNull, sql } from "drizzle-orm";
import type { Queryable } from "../db/client";
import { changes, changeSegments, sources, trackedTables, trailTables } from "../db/schema";
import type { OriginalIdentity } from "../db/schema/sources";
import type { ColumnRules } from "./column-rules";
import { encryptSecret } from "../crypto/secrets";
import type { SourceConnection } from "./connection";
import type { SslMode, TableRef } from "./input";
import { captureHealth, type CaptureHealth } from "./health";
import { heldLeaseKeys, leaseKey } from "./lease";
import { decryptSourcePassword } from "./password";
import type { ReplicationNames } from "./provision";
import type { RelationFacts } from "./relations";
import { rememberRelations } from "./remembered-relations";
import { setEnabled } from "./status";

/**
 * Store-side queries for sources. Every function that returns data meant for the API selects
 * explicit columns: the encrypted password never leaves this module except through
 * getSourceConnection, which the service uses to connect and never serialises.
 */

const summaryColumns = {
  id: sources.id,
  name: sources.name,
  host: sources.host,
  port: sources.port,
  database: sources.database,
  username: sources.username,
  sslMode: sources.sslMode,
  // The CA certificate is public, but bulky: the summary only says whether one is kept.
  sslRootCertGiven: sql<boolean>`"sources"."ssl_root_cert" is not null`.mapWith(Boolean),
  hostKind: sources.hostKind,
  environment: sources.environment,
  slotName: sources.slotName,
  publicationName: sources.publicationName,
  enabled: sources.enabled,
  trackNewTables: sources.trackNewTables,
  status: sources.status,
  lastError: sources.lastError,
  lastErrorFix: sources.lastErrorFix,
  // Only while failing: the column keeps the time of a past run of failures until the next one.
  failingSince: sql`case when ${sources.status} = 'error' then ${sources.failingSince} end`.mapWith(
    sources.failingSince,
  ),
  checkpointLsn: sources.checkpointLsn,
  // The worker stamps last_change_at; until it has, the newest stored change stands in (the
  // unique index's order is the order a source's changes were stored).
  // (Raw SQL: drizzle leaves columns unqualified in single-table selects, which would make
  // "id" ambiguous inside these correlated subqueries.)
  lastChangeAt: sql`coalesce("sources"."last_change_at", (
      select c.committed_at from changes c
       where c.source_id = "sources"."id"
       order by c.commit_lsn desc, c.seq desc limit 1))`.mapWith(sources.lastChangeAt),
  trackedTableCount: sql<number>`(
      select count(*)::int from tracked_tables t where t.source_id = "sources"."id")`.mapWith(Number),
  // Measured by the worker streaming the source (worker/source-health.ts defines them).
  lagBytes: sources.lagBytes,
  lagSeconds: sources.lagSeconds,
  lagMeasuredAt: sources.lagMeasuredAt,
  // From the change summary (one row per source, table and minute), not from the changes themselves.
  changesLast24h: sql<number>`(
      select coalesce(sum(s.creates + s.updates + s.deletes + s.truncates), 0)::bigint from change_segments s
       where s.source_id = "sources"."id" and s.minute >= now() - interval '24 hours')`.mapWith(Number),
  removedAt: sources.removedAt,
  createdAt: sources.createdAt,
  updatedAt: sources.updatedAt,
};

type SourceRow = {
  id: string;
  name: string;
  host: string;
  port: number;
  database: string;
  username: string;
  sslMode: SslMode;
  /** Whether verify-full checks against a CA certificate given with the source (else the CAs Node trusts). */
  sslRootCertGiven: boolean;
  /** The kind of host chosen when connecting (lib/sources/host-kind.ts); null: detected from the source. */
  hostKind: string | null;
  environment: string;
  slotName: string;
  publicationName: string;
  enabled: boolean;
  trackNewTables: boolean;
  status: "pending" | "streaming" | "error" | "paused";
  /** Why capture fails, as a user can act on it, and what fixes it (lib/sources/failure.ts). */
  lastError: string | null;
  lastErrorFix: string | null;
  /** Since when its replication sessions have been failing; null unless status is `error`. */
  failingSince: Date | null;
  checkpointLsn: string | null;
  lastChangeAt: Date | null;
  trackedTableCount: number;
  /** WAL bytes past the slot's confirmed position; null until the worker measured it. */
  lagBytes: number | null;
  /** Seconds the stored trail is behind the source; null when not known. */
  lagSeconds: number | null;
  lagMeasuredAt: Date | null;
  /** Changes committed at the source in the last 24 hours and stored. */
  changesLast24h: number;
  /** When it was removed with its captured changes kept; null while connected. */
  removedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
};

export type SourceSummary = SourceRow & {
  /** Whether capture is live, and if not why (lib/sources/health.ts). */
  health: CaptureHealth;
};

/** The rows with their health: whether a worker holds each one's lease is asked of the store once. */
async function withHealth(db: Queryable, rows: SourceRow[]): Promise<SourceSummary[]> {
  if (rows.length === 0) return [];
  const held = await heldLeaseKeys(db);
  return rows.map((row) => ({ ...row, health: captureHealth({ ...row, leased: held.has(leaseKey(row.id)) }) }));
}

/** Which database a source is, as its server says (lib/sources/identity.ts). */
export type SourceIdentity = { systemIdentifier: string; databaseOid: number };

/** Enough of a stored source to name it in a message. */
export type ConnectedSource = { id: string; name: string; host: string; port: number; database: string };

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

export type TrackedTableRow = { schema: string; table: string; createdAt: Date };

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

export async function listSources(db: Queryable): Promise<SourceSummary[]> {
  return withHealth(
    db,
    await db.select(summaryColumns).from(sources).orderBy(asc(sources.name), asc(sources.createdAt)),
  );
}

export async function getSource(db: Queryable, id: string): Promise<SourceSummary | null> {
  const [row] = await withHealth(db, await db.select(summaryColumns).from(sources).where(eq(sources.id, id)));
  return row ?? null;
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

/**
 * What the service needs to reach a source: connection details with the password decrypted. Null for a
 * removed source too: its password is wiped, and nothing may reach it through Retrace any more.
 */
export async function getSourceConnection(
  db: Queryable,
  id: string,
  secret: string,
): Promise<{ connection: SourceConnection; names: ReplicationNames; name: string; identified: boolean } | null> {
  const [row] = await db
    .select({
      name: sources.name,
      identified: sql<boolean>`${sources.systemIdentifier} is not null`,
      host: sources.host,
      port: sources.port,
      database: sources.database,
      username: sources.username,
      passwordEncrypted: sources.passwordEncrypted,
      sslMode: sources.sslMode,
      sslRootCert: sources.sslRootCert,
      slotName: sources.slotName,
      publicationName: sources.publicationName,
    })
    .from(sources)
    .where(and(eq(sources.id, id), isNull(sources.removedAt)));
  if (!row) return null;
  const password = decryptSourcePassword(row.passwordEncrypted, secret);
  return {
    name: row.name,
    identified: row.identified,
    connection: {
      host: row.host,
      port: row.port,
      database: row.database,
      username: row.username,
      password,
      sslMode: row.sslMode,
      sslRootCert: row.sslRootCert,
    },
    names: { slotName: row.slotName, publicationName: row.publicationName },
  };
}

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

/** The stored column rules as they are (null: no such source). */
export async function getColumnRules(db: Queryable, id: string): Promise<unknown> {
  const [row] = await db.select({ rules: sources.columnRules }).from(sources).where(eq(sources.id, id));
  return row ? row.rules : null;
}

export async function saveColumnRules(db: Queryable, id: string, rules: ColumnRules): Promise<boolean> {
  const updated = await db
    .update(sources)
    .set({ columnRules: rules })
    .where(eq(sources.id, id))
    .returning({ id: sources.id });
  return updated.length > 0;
}

/** Sets "track new tables automatically" (the trigger at the source is the service's business). */
export async function setSourceTrackNewTables(db: Queryable, id: string, enabled: boolean): Promise<boolean> {
  const updated = await db
    .update(sources)
    .set({ trackNewTables: enabled })
    .where(eq(sources.id, id))
    .returning({ id: sources.id });
  return updated.length > 0;
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

/** Pause or resume. The worker picks the change up and releases or takes the slot. */
export async function setSourceEnabled(db: Queryable, id: string, enabled: boolean): Promise<SourceSummary | null> {
  return (await setEnabled(db, id, enabled)) ? getSource(db, id) : null;
}

/**
 * Deletes the source with its tracked tables (ON DELETE CASCADE) and its captured changes, in one
 * transaction. `changes` has no foreign key (it would cost every insert an RI check), so the
 * changes are deleted here, and AFTER the source row: a worker's store commit updates that row in
 * the same transaction as its inserts, so deleting it first waits for a commit in flight, whose
 * rows the next statement then sees (READ COMMITTED takes a new snapshot per statement). A later
 * commit finds no source row to advance and fails, so no change can outlive its source. Its part of
 * the change summary (segments, tables) goes with them.
 */
export async function deleteSource(db: Queryable, id: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const deleted = await tx.delete(sources).where(eq(sources.id, id)).returning({ id: sources.id });
    await tx.delete(changes).where(eq(changes.sourceId, id));
    await tx.delete(changeSegments).where(eq(changeSegments.sourceId, id));
    await tx.delete(trailTables).where(eq(trailTables.sourceId, id));
    return deleted.length > 0;
  });
}

/** The slot and publication names of every connected source, each with its source's display name. */
export async function replicationNamesInUse(db: Queryable): Promise<Map<string, string>> {
  const rows = await db
    .select({ name: sources.name, slotName: sources.slotName, publicationName: sources.publicationName })
    .from(sources)
    .where(isNull(sources.removedAt));
  return new Map(rows.flatMap((r) => [[r.slotName, r.name] as const, [r.publicationName, r.name] as const]));
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
