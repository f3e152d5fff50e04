import { bigint, index, integer, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { pgLsn } from "./types";

/**
 * Tamper evidence (lib/seals): a hash chain per source over its stored changes, in commit order, kept
 * apart from the trail and written by the worker's sealer, never by the ingest path. One row per
 * sealed change: the change's own digest, the chain hash up to it (h_n = SHA-256(h_{n-1} || digest_n)),
 * and its table and key, so a change removed from the trail can still be named.
 */
export const changeSeals = pgTable(
  "change_seals",
  {
    sourceId: uuid("source_id").notNull(),
    /** Position in the source's chain, from 1. */
    position: bigint("position", { mode: "bigint" }).notNull(),
    changeId: bigint("change_id", { mode: "bigint" }).notNull(),
    commitLsn: pgLsn("commit_lsn").notNull(),
    seq: integer("seq").notNull(),
    /**
     * The change's schema and operation (what time travel's walk reads): null for a change sealed before migration
     * 0026 until the worker fills them in (sealRowBackfill), and for good when its change had expired by then.
     */
    schema: text("schema"),
    table: text("table").notNull(),
    primaryKey: text("primary_key"),
    operation: text("operation"),
    /**
     * Where the change was stored (its partition key): verify tells an expired change (a signed trail_expiries row
     * covers its source, bucket and commit time) from a removed one.
     */
    committedAt: timestamp("committed_at", { withTimezone: true, precision: 6 }).notNull(),
    bucket: text("bucket").notNull(),
    /** SHA-256 of the change's canonical bytes (lib/seals/chain.ts), hex. */
    digest: text("digest").notNull(),
    /** The chain hash up to and including this change, hex. */
    hash: text("hash").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.sourceId, t.position] }),
    /**
     * A row's sealed changes in id order, with what time travel asks of each (lib/changes/as-of-walk.ts): a page of
     * a big table as of a moment walks the table's keys here instead of reading its changes. Written by the sealer,
     * off the ingest path.
     */
    index("change_seals_row").on(t.sourceId, t.schema, t.table, t.primaryKey, t.changeId, t.operation, t.committedAt),
  ],
);

/**
 * A signed checkpoint per sealed batch: the chain's head at `position`, signed (HMAC-SHA-256) with a key
 * derived from the instance secret. The newest is the source's chain head.
 */
export const sealCheckpoints = pgTable(
  "seal_checkpoints",
  {
    sourceId: uuid("source_id").notNull(),
    position: bigint("position", { mode: "bigint" }).notNull(),
    changeId: bigint("change_id", { mode: "bigint" }).notNull(),
    commitLsn: pgLsn("commit_lsn").notNull(),
    seq: integer("seq").notNull(),
    committedAt: timestamp("committed_at", { withTimezone: true, precision: 6 }).notNull(),
    hash: text("hash").notNull(),
    signature: text("signature").notNull(),
    sealedAt: timestamp("sealed_at", { withTimezone: true, precision: 6 }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.sourceId, t.position] }),
    index("seal_checkpoints_committed_at").on(t.sourceId, t.committedAt),
  ],
);

/**
 * Seals written before migration 0026 whose schema and operation the worker has yet to fill in (lib/seals/backfill.ts):
 * those at positions up to `pendingTo`, filled from the top down. While a source has a row here, time travel does not
 * walk its seals.
 */
export const sealRowBackfill = pgTable("seal_row_backfill", {
  sourceId: uuid("source_id").primaryKey(),
  pendingTo: bigint("pending_to", { mode: "bigint" }).notNull(),
});
