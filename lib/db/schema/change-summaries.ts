import { sql } from "drizzle-orm";
import {
  bigint,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { pgLsn } from "./types";

/**
 * The change summary's counts without id blocks, per source, table and period (a minute, span 60; an hour, span
 * 3600): what the activity chart sums. A range costs the periods it covers (whole hours from the hourly rows, the
 * minutes at the edges of each bucket), not the changes or id blocks stored in it. Always the sums of
 * change_segments over their blocks (and minutes): the worker writes both in its one summary statement per store
 * commit (lib/changes/segments.ts); whatever removes segments (expiry, import) takes their counts off these
 * (SUBTRACT_GONE_SEGMENTS in lib/changes/summary-sql.ts).
 */
export const changeRollups = pgTable(
  "change_rollups",
  {
    span: integer("span").notNull(),
    start: timestamp("start", { withTimezone: true }).notNull(),
    sourceId: uuid("source_id").notNull(),
    schema: text("schema").notNull(),
    table: text("table").notNull(),
    creates: bigint("creates", { mode: "number" }).notNull(),
    updates: bigint("updates", { mode: "number" }).notNull(),
    deletes: bigint("deletes", { mode: "number" }).notNull(),
    truncates: bigint("truncates", { mode: "number" }).notNull(),
    fields: jsonb("fields")
      .notNull()
      .default(sql`'{}'::jsonb`),
  },
  (t) => [primaryKey({ columns: [t.span, t.start, t.sourceId, t.schema, t.table] })],
);

/**
 * Where the changes of each application context are: per source, context (exactly as stored) and block of ids
 * (of the store commit that wrote it first), the range of their ids, commit LSNs and commit times and how many
 * there are. The context filter finds the newest entries whose context contains the filter's, then reads only their
 * id ranges (lib/changes/list.ts): a page costs the entries and ranges it needs, not the trail. Written by the worker
 * in its one summary statement per store commit. Every change with a context is inside the id range of an entry
 * with that context (the list relies on that); counts are upper bounds after an expiry or an import.
 */
export const changeContexts = pgTable(
  "change_contexts",
  {
    sourceId: uuid("source_id").notNull(),
    block: bigint("block", { mode: "number" }).notNull(),
    context: jsonb("context").notNull(),
    minId: bigint("min_id", { mode: "bigint" }).notNull(),
    maxId: bigint("max_id", { mode: "bigint" }).notNull(),
    minLsn: pgLsn("min_lsn").notNull(),
    maxLsn: pgLsn("max_lsn").notNull(),
    minAt: timestamp("min_at", { withTimezone: true, precision: 6 }).notNull(),
    maxAt: timestamp("max_at", { withTimezone: true, precision: 6 }).notNull(),
    n: bigint("n", { mode: "number" }).notNull(),
  },
  (t) => [
    // A context can be up to 64 KiB: a btree takes its hash, not the value.
    uniqueIndex("change_contexts_key").on(t.sourceId, t.block, sql`md5(${t.context}::text)`),
    index("change_contexts_context").using("gin", t.context.op("jsonb_path_ops")),
    index("change_contexts_max_id").on(t.maxId),
  ],
);
