import { and, asc, eq, isNull, sql } from "drizzle-orm";
import type { Queryable } from "../db/client";
import { sources } from "../db/schema";
import type { ColumnRules } from "./column-rules";
import type { SourceConnection } from "./connection";
import type { SslMode } from "./input";
import { captureHealth, type CaptureHealth } from "./health";
import { heldLeaseKeys, leaseKey } from "./lease";
import { decryptSourcePassword } from "./password";
import type { ReplicationNames } from "./provision";
import { setEnabled } from "./status";

/**
 * Store-side queries for stored sources: their summaries, their connection details and their
 * settings. Every function that returns data meant for the API selects explicit columns: the
 * encrypted password never leaves this module except through getSourceConnection, which the
 * service uses to connect and never serialises. Identities are identity-queries.ts, tracked
 * tables tracked-table-queries.ts, creating and removing a source source-lifecycle.ts.
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
  // The worker stamps last_change_at; until it has, the change summary's segment reaching furthest in the
  // source's commit order stands in (its newest commit time), not `changes` itself: a subquery on it is planned
  // over every partition of the trail, hundreds of them in a store a few years old.
  // (Raw SQL: drizzle leaves columns unqualified in single-table selects, which would make
  // "id" ambiguous inside these correlated subqueries.)
  lastChangeAt: sql`coalesce("sources"."last_change_at", (
      select s.max_at from change_segments s
       where s.source_id = "sources"."id"
       order by s.max_lsn desc limit 1))`.mapWith(sources.lastChangeAt),
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

/** Pause or resume. The worker picks the change up and releases or takes the slot. */
export async function setSourceEnabled(db: Queryable, id: string, enabled: boolean): Promise<SourceSummary | null> {
  return (await setEnabled(db, id, enabled)) ? getSource(db, id) : null;
}

/** The slot and publication names of every connected source, each with its source's display name. */
export async function replicationNamesInUse(db: Queryable): Promise<Map<string, string>> {
  const rows = await db
    .select({ name: sources.name, slotName: sources.slotName, publicationName: sources.publicationName })
    .from(sources)
    .where(isNull(sources.removedAt));
  return new Map(rows.flatMap((r) => [[r.slotName, r.name] as const, [r.publicationName, r.name] as const]));
}
