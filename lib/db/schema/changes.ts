import { sql } from "drizzle-orm";
import {
  bigint,
  index,
  integer,
  json,
  jsonb,
  pgEnum,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { pgLsn } from "./types";

export const operation = pgEnum("operation", ["CREATE", "UPDATE", "DELETE", "TRUNCATE"]);
export type Operation = (typeof operation.enumValues)[number];

/**
 * The audit trail. One row per captured row change (one per table for TRUNCATE).
 * `(source_id, commit_lsn, seq)` is unique so a replay after a crash deduplicates itself.
 *
 * PARTITIONED BY RANGE (source_id, bucket, committed_at), which drizzle cannot declare: migration 0020 made it so,
 * with a DEFAULT partition `changes_default` that catches any row no partition covers; the worker's partition keeper
 * (lib/retention/partitions.ts) creates the partitions ahead and moves what lands in the default into partitions of
 * its own. Every unique index includes the partition key (PostgreSQL requires it): `id` stays the identity, unique
 * by its sequence, and the dedup key is (source_id, commit_lsn, seq) with the partition columns after it (a row
 * and its replay carry the same bucket and commit time, so they meet in the same partition).
 *
 * Shaped for the insert path, where every index costs (measured per row on 2 cores): `source_id`
 * has no foreign key to `sources` (its RI trigger cost ~14 µs; deleteSource removes a source's
 * changes itself); there is no index on `operation`, `committed_at` or `changed_fields`, on
 * `environment` (~4 µs: an environment is a set of sources) nor on (source_id, id) (~3 µs): the
 * change summary (change-segments.ts, written once per store commit) tells the list which id and
 * LSN ranges hold what a filter asks for, and it reads those by the indexes below
 * (lib/changes/list.ts).
 */
export const changes = pgTable(
  "changes",
  {
    id: bigint("id", { mode: "bigint" }).notNull().generatedAlwaysAsIdentity({ name: "changes_id_seq" }),
    sourceId: uuid("source_id").notNull(),
    /**
     * Which partitions the change goes to: '' for its source's own, 'schema.table' for a table that had a retention
     * rule of its own when the change was stored (lib/retention/rules.ts). A constant per relation for the worker.
     */
    bucket: text("bucket").notNull().default(""),
    environment: text("environment").notNull(),
    database: text("database").notNull(),
    schema: text("schema").notNull(),
    table: text("table").notNull(),
    primaryKey: text("primary_key"),
    operation: operation("operation").notNull(),
    // json, not jsonb: stored as the worker wrote it, keys in the table's column order and numbers
    // as printed, and ~12 µs a row cheaper to parse (jsonb_in builds a sorted tree of numerics).
    // Read them as text (`before::text`); json has `->`/`->>` but no equality or containment.
    before: json("before"),
    after: json("after"),
    changedFields: text("changed_fields").array(),
    /**
     * Columns whose value the WAL did not carry, listed here. An unchanged TOASTed value without an
     * old tuple (REPLICA IDENTITY not FULL): left out of `after`. A generated column the source does
     * not publish (before PostgreSQL 18, virtual ones): left out of every image. Null when none.
     */
    unavailableFields: text("unavailable_fields").array(),
    /**
     * json/jsonb columns of `before` (and of `after`) whose value is the JSON literal null: the
     * image shows it as `null`, as it shows SQL NULL. Null when none, which costs the insert path
     * nothing (most images have none).
     */
    beforeJsonNullFields: text("before_json_null_fields").array(),
    afterJsonNullFields: text("after_json_null_fields").array(),
    /**
     * The partition a TRUNCATE emptied, of the partitioned table in `schema`.`table` (its root):
     * only that partition's rows went. Null on every other change (a partition's row changes are
     * recorded as the root's, and NULL costs the insert path nothing).
     */
    partitionSchema: text("partition_schema"),
    partitionTable: text("partition_table"),
    /**
     * Application context (user, endpoint, job) of the change; NULL when it has none, as most
     * changes do (rows stored before migration 0006 hold `{}` instead). NULL costs the insert
     * path nothing, where `{}` was parsed as jsonb and tested by the partial index's predicate.
     * The API shows both as `{}`.
     */
    context: jsonb("context"),
    transactionId: bigint("transaction_id", { mode: "bigint" }).notNull(),
    commitLsn: pgLsn("commit_lsn").notNull(),
    seq: integer("seq").notNull(),
    committedAt: timestamp("committed_at", { withTimezone: true, precision: 6 }).notNull(),
    queuedAt: timestamp("queued_at", { withTimezone: true, precision: 6 }).notNull(),
    createdAt: timestamp("created_at", { withTimezone: true, precision: 6 }).notNull().defaultNow(),
  },
  (t) => [
    // No primary key: on a partitioned table it would have to hold the partition key too, a 40-byte entry per change
    // where the id alone is 8 (measured: ~4% of ingest). Ids are unique by their identity sequence (an archive import
    // brings back ids the store no longer holds, and refuses a clash); this index serves reads by id and id range.
    index("changes_id").on(t.id).with({ deduplicate_items: false }),
    // Also a source's changes in the order they were stored: one worker writes a source, in commit
    // order, so within a source id order IS (commit_lsn, seq) order, and this index serves a
    // source's rows (lib/changes/list.ts, live.ts) without a (source_id, id) index (~3 µs a row).
    uniqueIndex("changes_source_lsn_seq").on(t.sourceId, t.commitLsn, t.seq, t.bucket, t.committedAt),
    // Table + time: each table's entries go in at its right end. Keys never repeat (id), so
    // deduplication (tried on every full leaf page) never finds anything: off. A primary key is
    // looked up by hash: cheaper to insert into than a btree keyed on (table, primary_key) (whose
    // entries land all over the tree), and a record's history is its few rows sorted.
    index("changes_table_id").on(t.table, t.id).with({ deduplicate_items: false }),
    index("changes_primary_key").using("hash", t.primaryKey),
    // Partial: most changes carry no context (NULL, or `{}` before 0006), and each `{}` would
    // get a GIN entry (one ever-growing "empty item" posting tree) on the insert path. A query
    // filtering on context must add this predicate literally (`and context <> '{}'::jsonb`): the
    // planner cannot infer it from e.g. `context @> '{"k":"v"}'`, and without it the index is
    // not used.
    // jsonb_path_ops: one entry per path and value (a hash), so `{"user_id":42}` is one posting
    // list, where the default jsonb_ops intersects every context with a user_id key with every one
    // holding a 42; it serves only containment (@>), which is all the context filter uses.
    index("changes_context")
      .using("gin", t.context.op("jsonb_path_ops"))
      .where(sql`${t.context} <> '{}'::jsonb`),
  ],
);
