import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  doublePrecision,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import type { CatalogIndex } from "../../replication/keys";
import type { ColumnRules } from "../../sources/column-rules";
import { pgLsn } from "./types";

export const sslMode = pgEnum("ssl_mode", ["disable", "prefer", "require", "verify-full"]);
export const sourceStatus = pgEnum("source_status", ["pending", "streaming", "error", "paused"]);

/** A connected source database. The password is AES-GCM encrypted (lib/crypto). */
export const sources = pgTable(
  "sources",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    name: text("name").notNull(),
    host: text("host").notNull(),
    port: integer("port").notNull(),
    database: text("database").notNull(),
    /**
     * What the server says it is, so one database is never connected twice under two host spellings
     * (lib/sources/identity.ts): its cluster's system identifier (an unsigned 64-bit number, as
     * text) and the database's OID. Null for rows connected before migration 0007 until Retrace
     * next reaches them.
     */
    systemIdentifier: text("system_identifier"),
    databaseOid: bigint("database_oid", { mode: "number" }),
    username: text("username").notNull(),
    passwordEncrypted: text("password_encrypted").notNull(),
    sslMode: sslMode("ssl_mode").notNull().default("prefer"),
    /**
     * PEM of the CA(s) that verify-full checks the server's certificate against (null: the CAs Node trusts).
     * A CA certificate is public, so it is kept as it is; never a private key (lib/sources/input.ts refuses one).
     */
    sslRootCert: text("ssl_root_cert"),
    /** The kind of host the user chose (lib/sources/host-kind.ts), for the fixes shown; null: detected. */
    hostKind: text("host_kind"),
    environment: text("environment").notNull(),
    slotName: text("slot_name").notNull().unique(),
    publicationName: text("publication_name").notNull(),
    enabled: boolean("enabled").notNull().default(true),
    trackNewTables: boolean("track_new_tables").notNull().default(false),
    /**
     * Columns kept out of the trail or masked, and whether updates of excluded columns alone are skipped
     * (lib/sources/column-rules.ts). The worker restarts its stream when they change (worker/worker.ts).
     */
    columnRules: jsonb("column_rules")
      .$type<ColumnRules>()
      .notNull()
      .default({ rules: [], skipExcludedOnlyUpdates: false }),
    status: sourceStatus("status").notNull().default("pending"),
    /**
     * Why capture fails, as a user can act on it (lib/sources/failure.ts), and what fixes it; never a
     * password or a connection string. `failing_since` is when the current run of failures began: retries
     * keep it, and it is cleared once the source streams again.
     */
    lastError: text("last_error"),
    lastErrorFix: text("last_error_fix"),
    failingSince: timestamp("failing_since", { withTimezone: true }),
    /** Commit LSN of the last source transaction whose changes are committed in the store. */
    checkpointLsn: pgLsn("checkpoint_lsn"),
    lastChangeAt: timestamp("last_change_at", { withTimezone: true }),
    /**
     * Replication lag, measured by the worker streaming the source (worker/source-health.ts):
     * bytes of source WAL past the slot's confirmed position, and seconds by which the stored
     * trail is behind (null: behind, but no stored commit to measure from). Stale once
     * `lag_measured_at` stops moving (no worker streams the source).
     */
    lagBytes: bigint("lag_bytes", { mode: "number" }),
    lagSeconds: doublePrecision("lag_seconds"),
    lagMeasuredAt: timestamp("lag_measured_at", { withTimezone: true }),
    /**
     * Removed by a user who kept its captured changes: slot and publication are dropped at the source, the
     * password is wiped, nothing streams it again; the row stays so its changes are still found under its name
     * and environment (lib/sources/remove.ts). Null while connected.
     */
    removedAt: timestamp("removed_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true })
      .notNull()
      .defaultNow()
      .$onUpdate(() => sql`now()`),
  },
  // Unique: a second connection of the same database fails here even when two requests race
  // past the service's check. Rows without an identity (nulls) never collide, nor do removed ones:
  // a database removed with its changes kept can be connected again.
  (t) => [
    uniqueIndex("sources_system_database")
      .on(t.systemIdentifier, t.databaseOid)
      .where(sql`${t.removedAt} is null`),
  ],
);

/** A relation's replica identity (pg_class.relreplident) and its identity index, if USING INDEX. */
export type OriginalIdentity = { schema: string; name: string; relreplident: string; identityIndex: string | null };

export const trackedTables = pgTable(
  "tracked_tables",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    sourceId: uuid("source_id")
      .notNull()
      .references(() => sources.id, { onDelete: "cascade" }),
    schema: text("schema").notNull(),
    table: text("table").notNull(),
    /**
     * The replica identities Retrace changed to FULL when it began tracking the table (the table and
     * its partitions), as they were before: untracking restores them. Empty when it changed none.
     */
    originalIdentities: jsonb("original_identities").$type<OriginalIdentity[]>().notNull().default([]),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("tracked_tables_source_table").on(t.sourceId, t.schema, t.table)],
);

/**
 * What Retrace last knew of each relation whose changes a source's stream can carry (the tracked
 * tables and their partitions), from the source catalog (lib/sources/relations.ts): recorded when
 * tables are tracked, refreshed by the worker whenever it reads a relation the catalog still has.
 * Changes decoded after their table was dropped are labelled from it (key, generated columns,
 * partition root), since the catalog no longer can.
 */
export const sourceRelations = pgTable(
  "source_relations",
  {
    sourceId: uuid("source_id")
      .notNull()
      .references(() => sources.id, { onDelete: "cascade" }),
    /** pg_class OID at the source (unsigned 32-bit). */
    relationOid: bigint("relation_oid", { mode: "number" }).notNull(),
    schema: text("schema").notNull(),
    table: text("table").notNull(),
    /** Its primary key and replica identity index, as lib/replication/keys.ts reads them. */
    keyIndexes: jsonb("key_indexes").$type<CatalogIndex[]>().notNull(),
    generatedColumns: text("generated_columns").array().notNull(),
    /** For a partition: the root of its tree, and the root's columns in order. */
    rootSchema: text("root_schema"),
    rootTable: text("root_table"),
    rootColumns: text("root_columns").array(),
    recordedAt: timestamp("recorded_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.sourceId, t.relationOid] })],
);

export type Source = typeof sources.$inferSelect;
export type TrackedTable = typeof trackedTables.$inferSelect;
