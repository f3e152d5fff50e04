/**
 * The rows the transaction builder (rows.ts) produces: one `changes` row ready for the store writer, the
 * notices that go with it, and the batches and finished transactions the worker hands to the store.
 */
import type { Operation } from "../db/schema/changes";
import { NO_CONTEXT_JSON } from "./context";
import type { ColumnRulesForPlans } from "./images";

/** A row's context when no context message applies to it (stored as NULL). */
export const NO_CONTEXT = NO_CONTEXT_JSON;

/**
 * One row of the `changes` table, ready for the store writer. Row images and context are JSON
 * *text* (cast to jsonb by the store) so numbers keep every digit.
 *
 * Unavailable values: an unchanged TOASTed value (pgoutput `u`) is filled from the old tuple when
 * the source sends one (REPLICA IDENTITY FULL). Without an old tuple the value is unknown; it is
 * then OMITTED from the image (never null, never a placeholder) and its column is listed in
 * `unavailableFields`. The same rule holds for before images built from a key-only old tuple
 * (REPLICA IDENTITY DEFAULT): only the key columns are present. So in `before`/`after`, a key
 * present with `null` is SQL NULL and a missing key means "not known", except for the json/jsonb
 * columns listed in `beforeJsonNullFields`/`afterJsonNullFields`: their `null` is the JSON value.
 */
export type ChangeRow = {
  environment: string;
  database: string;
  schema: string;
  table: string;
  /** Single-column key: its text form. Composite: JSON array of the text forms. None: null. */
  primaryKey: string | null;
  operation: Operation;
  before: string | null;
  after: string | null;
  /** UPDATE only: columns whose text differs; null when no before image exists to compare. */
  changedFields: string[] | null;
  /**
   * Columns whose value the WAL did not carry (see above): left out of `after`, and generated
   * columns the source does not publish, left out of every image.
   */
  unavailableFields: string[];
  /** json/jsonb columns of `before` whose value is the JSON literal null, not SQL NULL; null when none. */
  beforeJsonNullFields: string[] | null;
  /** The same for `after`. */
  afterJsonNullFields: string[] | null;
  /** A TRUNCATE of one partition of the partitioned table `schema`.`table`: that partition; else null. */
  partitionSchema: string | null;
  partitionTable: string | null;
  /**
   * The partitions the row goes to (changes.bucket): 'schema.table' when its table has a retention rule of its
   * own, else '' (the source's). A constant per relation, set by its plan.
   */
  bucket: string;
  /** The application context in force (a JSON object's text); NO_CONTEXT when none. */
  context: string;
  /** Source xid as decimal text (unsigned 32-bit). */
  transactionId: string;
  commitLsn: string;
  seq: number;
  committedAt: string;
  queuedAt: string;
};

export type SourceInfo = {
  environment: string;
  database: string;
  /** Columns excluded from the trail or masked (lib/sources/column-rules.ts); none when absent. */
  columnRules?: ColumnRulesForPlans | null;
  /** Tables ('schema.table') with a retention rule of their own: their rows get their own bucket. */
  bucketTables?: ReadonlySet<string> | null;
};

export type Notice =
  | { kind: "context-ignored"; reason: string }
  | { kind: "unavailable"; schema: string; table: string; columns: string[] }
  | { kind: "generated-unpublished"; schema: string; table: string; columns: string[] };

/** Rows of an open source transaction handed to the store before its commit arrives. */
export type TransactionBatch = {
  transactionId: string;
  /** LSN of the commit record: the rows' key (with seq). Known from BEGIN. */
  commitLsn: string;
  committedAt: string;
  rows: ChangeRow[];
  notices: Notice[];
};

/** The end of a source transaction: its rows not yet taken as batches, and where it ends. */
export type BuiltTransaction = TransactionBatch & {
  /** End of the commit record: what the slot may be acknowledged up to once this is stored. */
  commitEndLsn: string;
  /** Rows of the whole transaction, batches already taken included. */
  rowCount: number;
};

// What a row costs beyond its JSON text (strings of metadata, the object itself), roughly.
const ROW_OVERHEAD_BYTES = 200;

/** Approximate size of a row in memory: its JSON text and the rest. What batches are limited by. */
export function rowBytes(row: ChangeRow): number {
  return (row.before?.length ?? 0) + (row.after?.length ?? 0) + row.context.length + ROW_OVERHEAD_BYTES;
}
