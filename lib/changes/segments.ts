import type pg from "pg";
import { NO_CONTEXT, type ChangeRow } from "../replication/change-row";
import {
  CONTEXT_COLUMNS,
  CONTEXT_CONFLICT,
  MERGE_COUNTS,
  MERGE_RANGES,
  ROLLUP_COLUMNS,
  ROLLUP_CONFLICT,
  SEGMENT_BLOCK_IDS,
  summarizeRollupsAndContextsSql,
} from "./summary-sql";

/**
 * How the change summary (`change_segments`, lib/db/schema/change-segments.ts; with its rollups and context
 * entries, lib/db/schema/change-summaries.ts) is written. The worker counts the rows of a store transaction as it
 * hands them to COPY (SegmentTally: a few map lookups a row, no I/O) and writes the counts (and where each
 * context's rows are among them) in ONE statement just before its checkpoint and COMMIT (SegmentTally.write), so a
 * store commit costs one more statement and the rows nothing. Rows written any other way (INSERT … ON CONFLICT,
 * which may skip rows already stored; the migration that summarised existing rows; tests) are summarised from the
 * rows themselves by summarizeRowsSql, exactly.
 */

export { SEGMENT_BLOCK_IDS };

const OPERATION_INDEX = { CREATE: 0, UPDATE: 1, DELETE: 2, TRUNCATE: 3 } as const;

type ContextEntry = {
  /** The positions of its first and last row among the transaction's rows. */
  first: number;
  last: number;
  minLsn: string;
  maxLsn: string;
  minAt: string;
  maxAt: string;
  n: number;
};

type Entry = {
  schema: string;
  table: string;
  minute: string;
  minLsn: string;
  maxLsn: string;
  minAt: string;
  maxAt: string;
  counts: [number, number, number, number];
  fields: Map<string, number> | null;
};

// An existing segment and the one a commit adds: ranges widen, counts add up, so does each column's count.
const MERGE = `${MERGE_RANGES}, ${MERGE_COUNTS}`;

const SEGMENT_COLUMNS = `source_id, schema, "table", minute, block, min_id, max_id, min_lsn, max_lsn, min_at, max_at,
  creates, updates, deletes, truncates, fields`;

const UPSERT_TALLY = `
  with input as (
    select * from unnest($2::text[], $3::text[], $4::timestamptz[], $5::pg_lsn[], $6::pg_lsn[], $7::timestamptz[],
                         $8::timestamptz[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::jsonb[])
      as i(schema, "table", minute, min_lsn, max_lsn, min_at, max_at, creates, updates, deletes, truncates, fields)
  ), tables as (
    insert into trail_tables (source_id, database, schema, "table")
    select distinct $1::uuid, database, schema, "table" from input, unnest($15::text[]) as database
    on conflict do nothing
  ), rollups as (
    insert into change_rollups as s (${ROLLUP_COLUMNS})
    select r.span, r.start, $1::uuid, r.schema, r."table", r.creates, r.updates, r.deletes, r.truncates, r.fields
      from unnest($16::int[], $17::timestamptz[], $18::text[], $19::text[], $20::bigint[], $21::bigint[],
                  $22::bigint[], $23::bigint[], $24::jsonb[])
        as r(span, start, schema, "table", creates, updates, deletes, truncates, fields)
    ${ROLLUP_CONFLICT}
  ), contexts as (
    -- A row's ids: at least the first id plus the rows before it, at most the last id less the rows after it.
    insert into change_contexts as s (${CONTEXT_COLUMNS})
    select $1::uuid, $14::bigint / ${SEGMENT_BLOCK_IDS}, c.context::jsonb::text::jsonb, $14::bigint + min(c.first),
           currval('changes_id_seq') - ($33::bigint - 1 - max(c.last)), min(c.min_lsn), max(c.max_lsn),
           min(c.min_at), max(c.max_at), sum(c.n)
      from unnest($25::text[], $26::bigint[], $27::bigint[], $28::pg_lsn[], $29::pg_lsn[], $30::timestamptz[],
                  $31::timestamptz[], $32::bigint[]) as c(context, first, last, min_lsn, max_lsn, min_at, max_at, n)
     where c.context::jsonb <> '{}'::jsonb
     group by c.context::jsonb::text
    ${CONTEXT_CONFLICT}
  )
  insert into change_segments as s (${SEGMENT_COLUMNS})
  select $1::uuid, schema, "table", minute, $14::bigint / ${SEGMENT_BLOCK_IDS}, $14::bigint,
         currval('changes_id_seq'), min_lsn, max_lsn, min_at, max_at, creates, updates, deletes, truncates, fields
    from input
  on conflict (source_id, schema, "table", minute, block) do update set ${MERGE}`;

/**
 * The last id drawn before this point (the ids a transaction draws afterwards are all larger): read at the BEGIN
 * of a store transaction, in the same round trip.
 */
export const LAST_ID_SQL =
  "select case when is_called then last_value else last_value - 1 end::text as last_id from changes_id_seq";

/** Counts the rows of one source's store transaction as they are written; writes them before its COMMIT. */
export class SegmentTally {
  private readonly entries = new Map<string, Map<string, Map<string, Entry>>>();
  private lastAt = "";
  /** The database names the rows carry (their source's: one). */
  private readonly databases = new Set<string>();
  private lastMinute = "";
  private rows = 0;
  /** Per context text: where its rows are among this transaction's (by position: see the `contexts` CTE). */
  private readonly contexts = new Map<string, ContextEntry>();

  /** Rows in (commit_lsn, seq) order, as a source's rows are written. */
  add(rows: readonly ChangeRow[]): void {
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as ChangeRow;
      this.databases.add(row.database);
      if (row.committedAt !== this.lastAt) {
        this.lastAt = row.committedAt;
        this.lastMinute = `${row.committedAt.slice(0, 16)}:00Z`;
      }
      const entry = this.entry(row);
      entry.maxLsn = row.commitLsn;
      if (row.committedAt < entry.minAt) entry.minAt = row.committedAt;
      if (row.committedAt > entry.maxAt) entry.maxAt = row.committedAt;
      entry.counts[OPERATION_INDEX[row.operation]]++;
      const changed = row.operation === "UPDATE" ? row.changedFields : null;
      if (changed) {
        const fields = (entry.fields ??= new Map());
        for (const field of changed) fields.set(field, (fields.get(field) ?? 0) + 1);
      }
      if (row.context !== NO_CONTEXT) this.addContext(row, this.rows + i);
    }
    this.rows += rows.length;
  }

  get empty(): boolean {
    return this.rows === 0;
  }

  private addContext(row: ChangeRow, position: number): void {
    const known = this.contexts.get(row.context);
    if (!known) {
      this.contexts.set(row.context, {
        first: position,
        last: position,
        minLsn: row.commitLsn,
        maxLsn: row.commitLsn,
        minAt: row.committedAt,
        maxAt: row.committedAt,
        n: 1,
      });
      return;
    }
    known.last = position;
    known.maxLsn = row.commitLsn;
    if (row.committedAt < known.minAt) known.minAt = row.committedAt;
    if (row.committedAt > known.maxAt) known.maxAt = row.committedAt;
    known.n++;
  }

  private entry(row: ChangeRow): Entry {
    let tables = this.entries.get(row.schema);
    if (!tables) this.entries.set(row.schema, (tables = new Map()));
    let minutes = tables.get(row.table);
    if (!minutes) tables.set(row.table, (minutes = new Map()));
    let entry = minutes.get(this.lastMinute);
    if (!entry) {
      entry = {
        schema: row.schema,
        table: row.table,
        minute: this.lastMinute,
        minLsn: row.commitLsn,
        maxLsn: row.commitLsn,
        minAt: row.committedAt,
        maxAt: row.committedAt,
        counts: [0, 0, 0, 0],
        fields: null,
      };
      minutes.set(this.lastMinute, entry);
    }
    return entry;
  }

  /**
   * Writes the counts, in the store transaction that wrote the rows on `client` (so `currval` is the last id it
   * drew); `lastIdBefore` is LAST_ID_SQL's answer at its BEGIN.
   */
  async write(client: pg.ClientBase, sourceId: string, lastIdBefore: string): Promise<void> {
    if (this.rows === 0) return;
    const columns: unknown[][] = Array.from({ length: 12 }, () => []);
    for (const tables of this.entries.values()) {
      for (const minutes of tables.values()) {
        for (const e of minutes.values()) {
          const fields = e.fields ? JSON.stringify(Object.fromEntries(e.fields)) : "{}";
          const values = [e.schema, e.table, e.minute, e.minLsn, e.maxLsn, e.minAt, e.maxAt, ...e.counts, fields];
          values.forEach((value, i) => columns[i]?.push(value));
        }
      }
    }
    const firstId = (BigInt(lastIdBefore) + 1n).toString();
    const contexts: unknown[][] = Array.from({ length: 8 }, () => []);
    for (const [text, c] of this.contexts) {
      const values = [text, c.first, c.last, c.minLsn, c.maxLsn, c.minAt, c.maxAt, c.n];
      values.forEach((value, i) => contexts[i]?.push(value));
    }
    await client.query(UPSERT_TALLY, [
      sourceId,
      ...columns,
      firstId,
      [...this.databases],
      ...this.rollups(),
      ...contexts,
      this.rows,
    ]);
  }

  /** The rollups' rows (change_rollups) of the counts: each minute's, and each hour's summed. */
  private rollups(): unknown[][] {
    const columns: unknown[][] = Array.from({ length: 9 }, () => []);
    const hours = new Map<string, Entry>();
    const push = (span: number, start: string, e: Entry) => {
      const fields = e.fields ? JSON.stringify(Object.fromEntries(e.fields)) : "{}";
      [span, start, e.schema, e.table, ...e.counts, fields].forEach((value, i) => columns[i]?.push(value));
    };
    for (const tables of this.entries.values()) {
      for (const minutes of tables.values()) {
        for (const e of minutes.values()) {
          push(60, e.minute, e);
          const hour = `${e.minute.slice(0, 13)}:00:00Z`;
          const key = `${hour}\u0000${e.schema}\u0000${e.table}`;
          const sum = hours.get(key);
          if (!sum) {
            hours.set(key, { ...e, minute: hour, counts: [...e.counts], fields: e.fields ? new Map(e.fields) : null });
            continue;
          }
          e.counts.forEach((n, i) => (sum.counts[i as 0 | 1 | 2 | 3] += n));
          if (e.fields) {
            const fields = (sum.fields ??= new Map());
            for (const [field, n] of e.fields) fields.set(field, (fields.get(field) ?? 0) + n);
          }
        }
      }
    }
    for (const e of hours.values()) push(3600, e.minute, e);
    return columns;
  }
}

/**
 * CTEs that summarise the rows of the relation `rows` (a CTE or table with the columns of `changes` named below)
 * into change_segments, trail_tables, change_rollups and change_contexts (`summary_segments`, `summary_tables`,
 * `summary_rollups`, `summary_contexts`): to follow `with rows as
 * (…),` in a statement of the caller's.
 */
export function summarizeRowsSql(rows: string): string {
  return `
    summary_fields as (
      select source_id, schema, "table", date_trunc('minute', committed_at, 'UTC') as minute,
             id / ${SEGMENT_BLOCK_IDS} as block, field, count(*) as n
        from ${rows}, unnest(changed_fields) as field
       where operation = 'UPDATE'
       group by 1, 2, 3, 4, 5, 6
    ), summary_field_maps as (
      select source_id, schema, "table", minute, block, jsonb_object_agg(field, n) as fields
        from summary_fields group by 1, 2, 3, 4, 5
    ), summary_groups as (
      select source_id, schema, "table", date_trunc('minute', committed_at, 'UTC') as minute,
             id / ${SEGMENT_BLOCK_IDS} as block, min(id) as min_id, max(id) as max_id,
             min(commit_lsn) as min_lsn, max(commit_lsn) as max_lsn, min(committed_at) as min_at,
             max(committed_at) as max_at, count(*) filter (where operation = 'CREATE') as creates,
             count(*) filter (where operation = 'UPDATE') as updates,
             count(*) filter (where operation = 'DELETE') as deletes,
             count(*) filter (where operation = 'TRUNCATE') as truncates
        from ${rows} group by 1, 2, 3, 4, 5
    ), summary_tables as (
      insert into trail_tables (source_id, database, schema, "table")
      select distinct source_id, database, schema, "table" from ${rows}
      on conflict do nothing
    ), summary_segments as (
      insert into change_segments as s (${SEGMENT_COLUMNS})
      select g.source_id, g.schema, g."table", g.minute, g.block, g.min_id, g.max_id, g.min_lsn, g.max_lsn,
             g.min_at, g.max_at, g.creates, g.updates, g.deletes, g.truncates, coalesce(f.fields, '{}'::jsonb)
        from summary_groups g
        left join summary_field_maps f using (source_id, schema, "table", minute, block)
      on conflict (source_id, schema, "table", minute, block) do update set ${MERGE}
    ), ${summarizeRollupsAndContextsSql(rows)}`;
}

/**
 * Summarises rows of `changes` that were written without a summary (tests write rows by hand; the worker always
 * writes one): the ids in [fromId, toId]. Adds to what is there, so summarise each row once.
 */
export async function summarizeStoredRows(db: pg.ClientBase | pg.Pool, fromId: string, toId: string): Promise<void> {
  await db.query(
    `with rows as (select * from changes where id between $1::bigint and $2::bigint), ${summarizeRowsSql("rows")}
     select 1`,
    [fromId, toId],
  );
}
