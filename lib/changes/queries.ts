import { sql, type SQL } from "drizzle-orm";
import type { JsonObject } from "../api/json";
import type { Queryable } from "../db/client";
import { isoTimestampSql } from "../db/iso-timestamp";
import type { Operation } from "../db/schema";
import { RawJson } from "../http/json";
import { decodeCursor, encodeCursor } from "./cursor";

export type ChangeFilters = {
  operation?: Operation;
  /** `table` or `schema.table`. */
  table?: string;
  primaryKey?: string;
  environment?: string;
  database?: string;
  sourceId?: string;
};

export type PageRequest = { cursor?: string; limit: number };

/**
 * A change as the API shows it. Ids are strings (bigint), times ISO-8601 UTC with
 * microseconds, and the row images are the JSON text as stored (json: the worker's text, keys in
 * the table's column order) so no digit is lost.
 */
export type Change = {
  id: string;
  sourceId: string;
  environment: string;
  database: string;
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

export type ChangePage = { changes: Change[]; nextCursor: string | null };

export type ChangeRow = {
  id: string;
  source_id: string;
  environment: string;
  database: string;
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

// Everything that JavaScript could alter (bigint, json, timestamps) leaves PostgreSQL as text.
export const columns = sql`
  c.id::text as id, c.source_id::text as source_id, c.environment, c.database, c.schema,
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

/**
 * "items" matches the table in any schema; "public.items" matches schema public, table items
 * (and also a table literally named "public.items"). Every branch pins "table", so the
 * (table, id) index serves it, newest first.
 */
export function tableCondition(value: string): SQL {
  const branches: SQL[] = [sql`c."table" = ${value}`];
  for (let dot = value.indexOf("."); dot > 0 && dot < value.length - 1; dot = value.indexOf(".", dot + 1)) {
    branches.push(sql`(c.schema = ${value.slice(0, dot)} and c."table" = ${value.slice(dot + 1)})`);
  }
  return branches.length === 1 ? (branches[0] ?? sql`true`) : sql`(${sql.join(branches, sql` or `)})`;
}

function filterConditions(filters: ChangeFilters): SQL[] {
  const conditions: SQL[] = [];
  // No index on operation (4 values, and one more index on every insert): the list walks the
  // primary key backwards and drops other operations on the way.
  if (filters.operation) conditions.push(sql`c.operation = ${filters.operation}::operation`);
  if (filters.table) conditions.push(tableCondition(filters.table));
  // By the hash index on primary_key: a record's few rows, then sorted.
  if (filters.primaryKey !== undefined) conditions.push(sql`c.primary_key = ${filters.primaryKey}`);
  if (filters.database) conditions.push(sql`c.database = ${filters.database}`);
  return conditions;
}

/**
 * Changes newest first, keyset-paginated on id: a page costs the same at row 10 and at row
 * 10 million. One extra row is read to know whether another page exists.
 *
 * An environment is a set of sources (a source's environment is set when it is connected), and
 * neither `environment` nor `source_id` has an index of its own on the insert path: each source
 * of the environment (or the one source asked for) reads its own newest page and the pages are
 * merged by id. A source's rows are read from the (source_id, commit_lsn, seq) index that
 * deduplicates them: one worker stores a source, in commit order, so within a source id order
 * and (commit_lsn, seq) order are the same. The cursor carries each source's last (commit_lsn,
 * seq) shown, where its next page starts. With a table filter a source's rows come from the
 * (table, id) index instead, in id order: the same order.
 */
export async function listChanges(db: Queryable, filters: ChangeFilters, page: PageRequest): Promise<ChangePage> {
  const conditions = filterConditions(filters);
  const cursor = page.cursor === undefined ? null : decodeCursor(page.cursor);
  if (cursor) conditions.push(sql`c.id < ${cursor.id}::bigint`);
  const limit = page.limit + 1;
  let result;
  const sourceIds = await sourcesToMerge(db, filters);
  if (sourceIds) {
    if (sourceIds.length === 0) return { changes: [], nextCursor: null };
    // One branch per source, its id a literal parameter: the planner then knows how many rows
    // that source has (and reads a small one's from its index rather than walking everyone's).
    const order = filters.table ? sql`c.id desc` : sql`c.commit_lsn desc, c.seq desc`;
    const branches = sourceIds.map((sourceId) => {
      const position = cursor?.positions.get(sourceId);
      const where = [...conditions, sql`c.source_id = ${sourceId}::uuid`];
      if (position) where.push(sql`(c.commit_lsn, c.seq) < (${position.commitLsn}::pg_lsn, ${position.seq}::int)`);
      return sql`(
        select ${columns}, c.id as sort_key from changes c
        where ${sql.join(where, sql` and `)}
        order by ${order}
        limit ${limit})`;
    });
    result = await db.execute<ChangeRow>(sql`
      select * from (${sql.join(branches, sql` union all `)}) page
      order by page.sort_key desc
      limit ${limit}`);
  } else {
    const where = conditions.length > 0 ? sql`where ${sql.join(conditions, sql` and `)}` : sql``;
    result = await db.execute<ChangeRow>(sql`
      select ${columns} from changes c ${where}
      order by c.id desc
      limit ${limit}`);
  }
  const rows = result.rows.slice(0, page.limit);
  const last = rows[rows.length - 1];
  if (result.rows.length <= page.limit || !last) return { changes: rows.map(toChange), nextCursor: null };
  // Rows come newest first: each source's last row on the page is where it continues.
  const positions = new Map(cursor?.positions);
  if (sourceIds) for (const row of rows) positions.set(row.source_id, { commitLsn: row.commit_lsn, seq: row.seq });
  return { changes: rows.map(toChange), nextCursor: encodeCursor(last.id, positions) };
}

/** The sources whose pages a list merges (environment and/or source filter), or null to walk all changes. */
async function sourcesToMerge(db: Queryable, filters: ChangeFilters): Promise<string[] | null> {
  if (!filters.environment) return filters.sourceId ? [filters.sourceId.toLowerCase()] : null;
  const bySource = filters.sourceId ? sql` and id = ${filters.sourceId}::uuid` : sql``;
  const found = await db.execute<{ id: string }>(
    sql`select id::text as id from sources where environment = ${filters.environment}${bySource} order by id`,
  );
  return found.rows.map((source) => source.id);
}

/** How many changes of one transaction a detail view shows; transactions can be huge. */
export const TRANSACTION_LIMIT = 100;

export type ChangeDetail = {
  change: Change;
  /** The changes of the same source transaction in commit order, this one included. */
  transaction: Change[];
  /** True when the transaction has more than TRANSACTION_LIMIT changes. */
  transactionTruncated: boolean;
};

/** One change and the first changes of its transaction (same source and commit LSN); null when absent. */
export async function getChange(db: Queryable, id: string): Promise<ChangeDetail | null> {
  const found = await db.execute<ChangeRow>(sql`select ${columns} from changes c where c.id = ${id}::bigint`);
  const row = found.rows[0];
  if (!row) return null;
  const siblings = await db.execute<ChangeRow>(sql`
    select ${columns} from changes c
    where c.source_id = ${row.source_id}::uuid and c.commit_lsn = ${row.commit_lsn}::pg_lsn
    order by c.seq
    limit ${TRANSACTION_LIMIT + 1}`);
  return {
    change: toChange(row),
    transaction: siblings.rows.slice(0, TRANSACTION_LIMIT).map(toChange),
    transactionTruncated: siblings.rows.length > TRANSACTION_LIMIT,
  };
}
