import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from "drizzle-orm/pg-core";
import { sources } from "./sources";

/**
 * Retention (lib/retention): `changes` is partitioned by range on (source_id, bucket, committed_at) and the worker
 * expires a partition by dropping it whole, never by DELETE. See README, "Retention".
 */

/**
 * How long changes are kept: per environment (`table` = '') and per table ('schema.table'). No rule for an
 * environment means keep forever; `days` null means keep forever too. A table rule applies to the changes stored
 * after it is set (they go to the table's own bucket); earlier ones follow the environment's rule.
 */
export const retentionRules = pgTable(
  "retention_rules",
  {
    environment: text("environment").notNull(),
    table: text("table").notNull().default(""),
    days: integer("days"),
    /** Archive a partition (lib/archive) before it is dropped. */
    archive: boolean("archive").notNull().default(false),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    updatedBy: text("updated_by"),
  },
  (t) => [primaryKey({ columns: [t.environment, t.table] })],
);

/**
 * The partitions of `changes` that Retrace made, written in the same store transaction as their CREATE: the
 * partition `name` holds the changes of `source_id` in `bucket` committed in [from_at, to_at).
 */
export const trailPartitions = pgTable("trail_partitions", {
  name: text("name").primaryKey(),
  sourceId: uuid("source_id").notNull(),
  bucket: text("bucket").notNull(),
  fromAt: timestamp("from_at", { withTimezone: true }).notNull(),
  toAt: timestamp("to_at", { withTimezone: true }).notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

/**
 * One row per partition that retention dropped, signed with the seal key like a seal checkpoint
 * (lib/retention/expiry-signature.ts): verify (lib/seals/verify.ts) takes a sealed change that is no longer stored
 * as expired, not removed, exactly when a validly signed row here covers its (source, bucket, committed_at).
 */
export const trailExpiries = pgTable("trail_expiries", {
  id: bigint("id", { mode: "bigint" }).primaryKey().generatedAlwaysAsIdentity(),
  /** The dropped partition's name (a name can come back: rows of an expired span landing late get a new one). */
  partition: text("partition").notNull(),
  sourceId: uuid("source_id").notNull(),
  bucket: text("bucket").notNull(),
  fromAt: timestamp("from_at", { withTimezone: true }).notNull(),
  toAt: timestamp("to_at", { withTimezone: true }).notNull(),
  changes: bigint("changes", { mode: "number" }).notNull(),
  minChangeId: bigint("min_change_id", { mode: "bigint" }),
  maxChangeId: bigint("max_change_id", { mode: "bigint" }),
  /** Where lib/archive wrote the partition's changes; null when it was not archived. */
  archiveLocation: text("archive_location"),
  droppedAt: timestamp("dropped_at", { withTimezone: true }).notNull().defaultNow(),
  signature: text("signature").notNull(),
});

/**
 * A hold on a database's trail (lib/holds): the expirer keeps every partition of `source_id` whose span overlaps
 * [from_at, to_at) of commit time while the hold is active (`released_at` null), whatever the retention says.
 * Placed by hand (a legal hold) or by `retrace archive import` over an archive's range, so imported changes stay.
 */
export const trailHolds = pgTable(
  "trail_holds",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    sourceId: uuid("source_id")
      .notNull()
      .references(() => sources.id, { onDelete: "cascade" }),
    fromAt: timestamp("from_at", { withTimezone: true }).notNull(),
    toAt: timestamp("to_at", { withTimezone: true }).notNull(),
    reason: text("reason").notNull(),
    /** Who placed it, as the audit log names them (an email, `token <name>`, the OS user of a command line). */
    createdBy: text("created_by").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    releasedAt: timestamp("released_at", { withTimezone: true }),
    releasedBy: text("released_by"),
  },
  (t) => [
    index("trail_holds_active")
      .on(t.sourceId, t.fromAt)
      .where(sql`${t.releasedAt} is null`),
    check("trail_holds_span", sql`${t.fromAt} < ${t.toAt}`),
    check("trail_holds_reason", sql`length(${t.reason}) between 1 and 500`),
  ],
);
