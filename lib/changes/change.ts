import { sql } from "drizzle-orm";
import type { JsonObject } from "../api/json";
import { isoTimestampSql } from "../db/iso-timestamp";
import type { Operation } from "../db/schema";
import { RawJson } from "../http/json";

/**
 * A change as the API shows it. Ids are strings (bigint), times ISO-8601 UTC with
 * microseconds, and the row images are the JSON text as stored (json: the worker's text, keys in
 * the table's column order) so no digit is lost.
 */
export type Change = {
  id: string;
  sourceId: string;
  environment: string;
  /** The source database's name on its server ("shop"), as it was when the change was captured. */
  database: string;
  /**
   * The name the user gave the source in Retrace ("Shop (demo)"), as it is now: what pages call the database.
   * Null only if the source's row is gone.
   */
  sourceName: string | null;
  schema: string;
  table: string;
  primaryKey: string | null;
  operation: Operation;
  before: RawJson<JsonObject> | null;
  after: RawJson<JsonObject> | null;
  changedFields: string[] | null;
  /**
   * Columns left out because the WAL did not carry their value: an unchanged TOASTed value (out of
   * `after`), a generated column the source does not publish (out of every image).
   */
  unavailableFields: string[] | null;
  /**
   * json/jsonb columns whose value in `before` is the JSON literal null ('null'::jsonb), which the
   * image shows as `null` just like SQL NULL; null when there are none.
   */
  beforeJsonNullFields: string[] | null;
  /** The same for `after`. */
  afterJsonNullFields: string[] | null;
  /**
   * A TRUNCATE of one partition of the partitioned table `schema`.`table`: the partition, whose
   * rows alone it removed. Null on every other change (a partition's row changes are its root's).
   */
  partition: { schema: string; table: string } | null;
  context: RawJson<JsonObject>;
  transactionId: string;
  commitLsn: string;
  seq: number;
  committedAt: string;
  createdAt: string;
};

export type ChangeRow = {
  id: string;
  source_id: string;
  environment: string;
  database: string;
  source_name: string | null;
  schema: string;
  table: string;
  primary_key: string | null;
  operation: Operation;
  before: string | null;
  after: string | null;
  changed_fields: string[] | null;
  unavailable_fields: string[] | null;
  before_json_null_fields: string[] | null;
  after_json_null_fields: string[] | null;
  partition_schema: string | null;
  partition_table: string | null;
  context: string;
  transaction_id: string;
  commit_lsn: string;
  seq: number;
  committed_at: string;
  created_at: string;
};

const iso = (column: string) => sql.raw(isoTimestampSql(column));

// Everything that JavaScript could alter (bigint, json, timestamps) leaves PostgreSQL as text. The source's name
// is looked up per row returned (sources is small and keyed by id), so the queries need no join.
export const columns = sql`
  c.id::text as id, c.source_id::text as source_id, c.environment, c.database,
  (select s.name from sources s where s.id = c.source_id) as source_name, c.schema,
  c."table", c.primary_key, c.operation::text as operation,
  c.before::text as before, c.after::text as after, c.changed_fields, c.unavailable_fields,
  c.before_json_null_fields, c.after_json_null_fields, c.partition_schema, c.partition_table,
  coalesce(c.context, '{}')::text as context, c.transaction_id::text as transaction_id,
  c.commit_lsn::text as commit_lsn, c.seq,
  ${iso("c.committed_at")} as committed_at, ${iso("c.created_at")} as created_at`;

export function toChange(row: ChangeRow): Change {
  return {
    id: row.id,
    sourceId: row.source_id,
    environment: row.environment,
    database: row.database,
    sourceName: row.source_name,
    schema: row.schema,
    table: row.table,
    primaryKey: row.primary_key,
    operation: row.operation,
    before: row.before === null ? null : new RawJson(row.before),
    after: row.after === null ? null : new RawJson(row.after),
    changedFields: row.changed_fields,
    unavailableFields: row.unavailable_fields,
    beforeJsonNullFields: row.before_json_null_fields,
    afterJsonNullFields: row.after_json_null_fields,
    partition:
      row.partition_schema === null || row.partition_table === null
        ? null
        : { schema: row.partition_schema, table: row.partition_table },
    context: new RawJson(row.context),
    transactionId: row.transaction_id,
    commitLsn: row.commit_lsn,
    seq: row.seq,
    committedAt: row.committed_at,
    createdAt: row.created_at,
  };
}
