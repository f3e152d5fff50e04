import { sql } from "drizzle-orm";
import { bigint, index, jsonb, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { pgLsn } from "./types";

/**
 * A summary of `changes` that the worker writes in the store transaction of the rows it describes, one statement
 * per store commit (lib/changes/segments.ts), never per row: for each source, table, minute of commit time and
 * block of ids, how many changes of each operation, how many updates changed each column, and the ranges their
 * ids, commit LSNs and commit times fall in. It tells the change list where the rows a filter asks for can be
 * (lib/changes/list.ts), so a filter that matches nothing reads no change and a rare one reads only the id ranges
 * that hold it; its sums per minute and hour (change_rollups, change-summaries.ts) draw the activity chart.
 *
 * Ranges are a superset (a store commit's ids run from the sequence's value at its BEGIN to the last one it
 * drew), counts are exact. Every change is inside the id range of a segment that counts it: the list relies on
 * that, and only on that.
 */
export const changeSegments = pgTable(
  "change_segments",
  {
    sourceId: uuid("source_id").notNull(),
    schema: text("schema").notNull(),
    table: text("table").notNull(),
    /** The UTC minute the changes were committed in at the source. */
    minute: timestamp("minute", { withTimezone: true }).notNull(),
    /** Which block of SEGMENT_BLOCK_IDS ids the store commit started in (lib/changes/segments.ts). */
    block: bigint("block", { mode: "number" }).notNull(),
    minId: bigint("min_id", { mode: "bigint" }).notNull(),
    maxId: bigint("max_id", { mode: "bigint" }).notNull(),
    minLsn: pgLsn("min_lsn").notNull(),
    maxLsn: pgLsn("max_lsn").notNull(),
    minAt: timestamp("min_at", { withTimezone: true, precision: 6 }).notNull(),
    maxAt: timestamp("max_at", { withTimezone: true, precision: 6 }).notNull(),
    creates: bigint("creates", { mode: "number" }).notNull(),
    updates: bigint("updates", { mode: "number" }).notNull(),
    deletes: bigint("deletes", { mode: "number" }).notNull(),
    truncates: bigint("truncates", { mode: "number" }).notNull(),
    /** Column name → how many of the updates changed it. */
    fields: jsonb("fields")
      .notNull()
      .default(sql`'{}'::jsonb`),
  },
  (t) => [
    primaryKey({ columns: [t.sourceId, t.schema, t.table, t.minute, t.block] }),
    // Newest first: the list takes segments from the newest down until it has a page's worth.
    index("change_segments_max_id").on(t.maxId),
    // The activity chart's time range.
    index("change_segments_minute").on(t.minute),
    // A source's segments past a commit LSN: where the live tail's changes can be (lib/changes/live.ts).
    index("change_segments_source_lsn").on(t.sourceId, t.maxLsn),
    // Which segments hold an id: where one change is (lib/changes/locate.ts).
    index("change_segments_ids").using("gist", sql`int8range(${t.minId}, ${t.maxId}, '[]')`),
  ],
);

/**
 * The tables the trail holds changes of, per source and database name (as the changes carry it): table
 * type-ahead, case-insensitive table filters, and the sources a database filter stands for.
 */
export const trailTables = pgTable(
  "trail_tables",
  {
    sourceId: uuid("source_id").notNull(),
    database: text("database").notNull(),
    schema: text("schema").notNull(),
    table: text("table").notNull(),
  },
  (t) => [primaryKey({ columns: [t.sourceId, t.database, t.schema, t.table] })],
);
