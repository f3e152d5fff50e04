import { sql } from "drizzle-orm";
import {
  bigint,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { sources } from "./sources";
import { pgLsn } from "./types";

export const operation = pgEnum("operation", ["CREATE", "UPDATE", "DELETE", "TRUNCATE"]);
export type Operation = (typeof operation.enumValues)[number];

/**
 * The audit trail. One row per captured row change (one per table for TRUNCATE).
 * `(source_id, commit_lsn, seq)` is unique so a replay after a crash deduplicates itself.
 */
export const changes = pgTable(
  "changes",
  {
    id: bigint("id", { mode: "bigint" }).primaryKey().generatedAlwaysAsIdentity(),
    sourceId: uuid("source_id")
      .notNull()
      .references(() => sources.id, { onDelete: "cascade" }),
    environment: text("environment").notNull(),
    database: text("database").notNull(),
    schema: text("schema").notNull(),
    table: text("table").notNull(),
    primaryKey: text("primary_key"),
    operation: operation("operation").notNull(),
    before: jsonb("before"),
    after: jsonb("after"),
    changedFields: text("changed_fields").array(),
    /**
     * Columns whose value the WAL did not carry (an unchanged TOASTed value without an old tuple,
     * i.e. REPLICA IDENTITY not FULL): left out of `after`, listed here. Null when none.
     */
    unavailableFields: text("unavailable_fields").array(),
    context: jsonb("context").notNull().default({}),
    transactionId: bigint("transaction_id", { mode: "bigint" }).notNull(),
    commitLsn: pgLsn("commit_lsn").notNull(),
    seq: integer("seq").notNull(),
    committedAt: timestamp("committed_at", { withTimezone: true, precision: 6 }).notNull(),
    queuedAt: timestamp("queued_at", { withTimezone: true, precision: 6 }).notNull(),
    createdAt: timestamp("created_at", { withTimezone: true, precision: 6 })
      .notNull()
      .defaultNow(),
  },
  (t) => [
    uniqueIndex("changes_source_lsn_seq").on(t.sourceId, t.commitLsn, t.seq),
    index("changes_environment_id").on(t.environment, t.id),
    index("changes_source_id").on(t.sourceId, t.id),
    index("changes_table_pk_id").on(t.table, t.primaryKey, t.id),
    index("changes_operation_id").on(t.operation, t.id),
    // Partial: most changes carry no context, and each `{}` would still get a GIN entry (one
    // ever-growing "empty item" posting tree) on the insert path. A query filtering on context
    // must add this predicate literally (`and context <> '{}'::jsonb`): the planner cannot infer
    // it from e.g. `context @> '{"k":"v"}'`, and without it the index is not used.
    index("changes_context").using("gin", t.context).where(sql`${t.context} <> '{}'::jsonb`),
  ],
);
