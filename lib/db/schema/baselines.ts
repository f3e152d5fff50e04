import { bigint, index, json, pgEnum, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { sources } from "./sources";
import { pgLsn } from "./types";

export const baselineStatus = pgEnum("baseline_status", ["pending", "running", "done", "failed"]);
export type BaselineStatus = (typeof baselineStatus.enumValues)[number];

/**
 * A copy of a tracked table's rows as they were at one exact point of the source's WAL (`consistent_lsn`: every
 * transaction that committed before it is in the copy, none after it), taken so that rows that existed before
 * tracking began have a known state before their first change (lib/baselines/). The worker runs pending ones.
 */
export const baselines = pgTable(
  "baselines",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    sourceId: uuid("source_id")
      .notNull()
      .references(() => sources.id, { onDelete: "cascade" }),
    schema: text("schema").notNull(),
    table: text("table").notNull(),
    status: baselineStatus("status").notNull().default("pending"),
    /** The snapshot's position: changes committed at or before it are in the copy, later ones are not. */
    consistentLsn: pgLsn("consistent_lsn"),
    /** The source's clock when the snapshot was taken. */
    snapshotAt: timestamp("snapshot_at", { withTimezone: true, precision: 6 }),
    /** The planner's row estimate when the copy began (progress), and the rows copied so far. */
    rowsEstimated: bigint("rows_estimated", { mode: "number" }),
    rowsCopied: bigint("rows_copied", { mode: "number" }).notNull().default(0),
    error: text("error"),
    requestedBy: text("requested_by"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp("started_at", { withTimezone: true }),
    /** Written with every chunk while running: a running baseline whose worker died is taken over once it is old. */
    heartbeatAt: timestamp("heartbeat_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
  },
  (t) => [index("baselines_source_table").on(t.sourceId, t.schema, t.table, t.createdAt)],
);

/** The rows of a baseline: the key as `changes.primary_key` holds it, the image as the worker would write it. */
export const baselineRows = pgTable(
  "baseline_rows",
  {
    baselineId: uuid("baseline_id")
      .notNull()
      .references(() => baselines.id, { onDelete: "cascade" }),
    primaryKey: text("primary_key").notNull(),
    image: json("image").notNull(),
    jsonNullFields: text("json_null_fields").array(),
  },
  (t) => [primaryKey({ columns: [t.baselineId, t.primaryKey] })],
);

export type Baseline = typeof baselines.$inferSelect;
