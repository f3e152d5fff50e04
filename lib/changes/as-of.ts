import { sql, type SQL } from "drizzle-orm";
import type { JsonObject } from "../api/json";
import type { Queryable } from "../db/client";
import { isoTimestampSql } from "../db/iso-timestamp";
import { Invalid } from "../errors";
import { RawJson } from "../http/json";
import { resolveAsOfTable, type AsOfTable, type AsOfTableRef } from "./as-of-target";
import {
  lastTruncate,
  placeOf,
  sameTable,
  tableBranches,
  tableSpan,
  type TablePlace,
  type TableSpan,
} from "./as-of-trail";
import { columns, toChange, type Change, type ChangeRow } from "./change";
import { pageKeys, WALK_FROM, type SlowRead } from "./as-of-walk";
import { primaryKeyCandidates } from "./primary-key";
import { unionOf } from "./partitions";
import { inSnapshot } from "./snapshot";

/**
 * Time travel: a row's or a table's state as of a moment of source commit time. The state at `at` is what the
 * transactions committed at or before `at` left, in commit order:
 *
 * - a key's latest change at or before `at` decides it (its after image; none for a DELETE), unless a TRUNCATE of
 *   the whole table came after that change and at or before `at` (then it is gone);
 * - a key with no such change and no TRUNCATE at or before `at` is taken from a baseline (lib/baselines/) that holds
 *   it and that no change of the key precedes: such a row was untouched from before tracking began until its first
 *   change, so the baseline's copy is what it was all along;
 * - otherwise the trail does not know the row then: it did not exist, or it existed before tracking began and no
 *   baseline holds it.
 *
 * Within a source, ids follow commit order (lib/db/schema/changes.ts), so "latest" is the highest id. Reads use the
 * indexes the list uses: the hash index on primary_key for one row; for a table, the (table, id) index between the
 * last TRUNCATE and `at` (both found through the change summary), or the sealed keys for a big one
 * (lib/changes/as-of-walk.ts); each only in the partitions the table's changes can be in up to `at`
 * (lib/changes/as-of-trail.ts).
 */

export type BaselineRef = { id: string; consistentLsn: string; snapshotAt: string };

export type RecordAsOf = {
  at: string;
  /** The row's image then, exactly as stored; null when it did not exist (or is not known). */
  row: RawJson<JsonObject> | null;
  jsonNullFields: string[] | null;
  /** The change that decided it (the row's latest change, or the TRUNCATE that emptied the table); null if none. */
  change: Change | null;
  /** The baseline the row was taken from, when no change decided it. */
  baseline: BaselineRef | null;
};

export type TableRowAsOf = {
  primaryKey: string;
  row: RawJson<JsonObject>;
  jsonNullFields: string[] | null;
  /** The change that left the row so (null: from a baseline). */
  changeId: string | null;
  committedAt: string | null;
  baselineId: string | null;
};

export type TableAsOf = {
  at: string;
  table: AsOfTable;
  rows: TableRowAsOf[];
  nextCursor: string | null;
  /** Set when a big table's page read all its changes up to `at` because the seals were not ready to walk. */
  slowRead: SlowRead | null;
  /**
   * Whether every row the table held at `at` is known: a TRUNCATE at or before it emptied the table, or a finished
   * baseline copied it. False: rows unchanged since tracking began are not among `rows`.
   */
  allRowsKnown: boolean;
};

const iso = (column: string) => sql.raw(isoTimestampSql(column));

type BaselineImage = {
  image: string;
  json_null_fields: string[] | null;
  baseline_id: string;
  consistent_lsn: string;
  snapshot_at: string;
};

/** A key with no change at or before `at` and no TRUNCATE: from the newest baseline that no change of it precedes. */
async function baselineImage(
  db: Queryable,
  t: TablePlace,
  span: TableSpan,
  keys: string[],
): Promise<BaselineImage | null> {
  const changed = changeOfKey(t, span, sql`c.commit_lsn <= bl.consistent_lsn`);
  const found = await db.execute<BaselineImage>(sql`
    select b.image::text as image, b.json_null_fields, bl.id::text as baseline_id,
           bl.consistent_lsn::text as consistent_lsn, ${iso("bl.snapshot_at")} as snapshot_at
      from baselines bl join baseline_rows b on b.baseline_id = bl.id
     where bl.source_id = ${t.sourceId}::uuid and bl.schema = ${t.schema} and bl."table" = ${t.table}
       and bl.status = 'done' and b.primary_key in (${sql.join(
         keys.map((key) => sql`${key}`),
         sql`, `,
       )})
       and not ${changed}
     order by bl.created_at desc limit 1`);
  return found.rows[0] ?? null;
}

/**
 * Whether a change of the table with the key `b.primary_key` (the enclosing query's baseline row) meets `condition`:
 * looked up by the key's hash index only where the table's changes are (lib/changes/as-of-trail.ts).
 */
function changeOfKey(t: TablePlace, span: TableSpan, condition: SQL): SQL {
  if (span.firstAt === null) return sql`false`;
  const exists = tableBranches(
    t,
    { from: span.firstAt, to: null },
    (relation, bounds) => sql`exists (
      select 1 from ${relation} c where ${bounds}c.primary_key = b.primary_key and ${sameTable(t)} and ${condition})`,
  );
  return sql`(${sql.join(exists, sql` or `)})`;
}

/** One row as of `at` (GET /api/records/history's row, `primaryKey` as the filters take it). */
export async function recordAsOf(
  db: Queryable,
  ref: AsOfTableRef & { primaryKey: string },
  at: string,
): Promise<RecordAsOf> {
  return inSnapshot(db, async (tx) => {
    const t = await placeOf(tx, await resolveAsOfTable(tx, ref));
    const keys = primaryKeyCandidates(ref.primaryKey);
    const span = await tableSpan(tx, t, at);
    const none = { at, row: null, jsonNullFields: null, baseline: null };
    if (span.lastId !== null) {
      const change = await latestChangeOfKey(tx, t, span.firstAt as string, keys, at);
      const truncate = await lastTruncate(tx, t, at);
      if (truncate && (change === null || BigInt(truncate.id) > BigInt(change.id))) {
        return { ...none, change: toChange(truncate) };
      }
      if (change) {
        return {
          at,
          row: change.after === null ? null : new RawJson(change.after),
          jsonNullFields: change.after_json_null_fields,
          change: toChange(change),
          baseline: null,
        };
      }
    }
    const base = await baselineImage(tx, t, span, keys);
    if (!base) return { ...none, change: null };
    return {
      at,
      row: new RawJson(base.image),
      jsonNullFields: base.json_null_fields,
      change: null,
      baseline: { id: base.baseline_id, consistentLsn: base.consistent_lsn, snapshotAt: base.snapshot_at },
    };
  });
}

/** A key's latest change committed at or before `at` (between the table's first change and `at`), or null. */
async function latestChangeOfKey(
  db: Queryable,
  t: TablePlace,
  firstAt: string,
  keys: string[],
  at: string,
): Promise<ChangeRow | null> {
  const byKey = sql.join(
    keys.map((key) => sql`c.primary_key = ${key}`),
    sql` or `,
  );
  const branches = tableBranches(
    t,
    { from: firstAt, to: at },
    (relation, bounds) => sql`(
      select ${columns} from ${relation} c
       where ${bounds}(${byKey}) and ${sameTable(t)} and c.committed_at <= ${at}::timestamptz
       order by c.id desc limit 1)`,
  );
  const latest = await db.execute<ChangeRow>(sql`${unionOf(branches, sql`page.id::bigint desc`)} limit 1`);
  return latest.rows[0] ?? null;
}

/** The opaque cursor of the table reader: base64url of `k:<last primary key>`. */
export function encodeKeyCursor(primaryKey: string): string {
  return Buffer.from(`k:${primaryKey}`, "utf8").toString("base64url");
}

export function decodeKeyCursor(cursor: string): string {
  const text = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, "base64url").toString("utf8") : "";
  if (!text.startsWith("k:")) {
    const message = "this cursor is not valid; use the nextCursor of a previous page";
    throw new Invalid(`cursor: ${message}`, [{ path: "cursor", message }]);
  }
  return text.slice(2);
}

type TableRow = {
  primary_key: string;
  image: string | null;
  json_null_fields: string[] | null;
  change_id: string | null;
  committed_at: string | null;
  baseline_id: string | null;
};

/**
 * Every row of a table that existed at `at`, with its values then, in primary key order (the store's collation),
 * keyset-paged on the key. The keys come from the table's changes between its last TRUNCATE before `at` and `at`
 * (lib/changes/as-of-walk.ts: read whole, or walked in the seals) and from the baselines' rows in key order, skipping
 * those a change precedes; never from other tables or later changes.
 */
export async function tableAsOf(
  db: Queryable,
  ref: AsOfTableRef,
  at: string,
  page: { cursor?: string; limit: number },
  /** How many changes make a page walk the sealed keys (lib/changes/as-of-walk.ts); tests set it to take each way. */
  walkFrom = WALK_FROM,
): Promise<TableAsOf> {
  const after = page.cursor === undefined ? null : decodeKeyCursor(page.cursor);
  return inSnapshot(db, async (tx) => {
    const t = await resolveAsOfTable(tx, ref);
    const place = await placeOf(tx, t);
    const span = await tableSpan(tx, t, at);
    const truncate = span.lastId === null ? null : await lastTruncate(tx, place, at);
    const want = page.limit + 1;
    const parts: SQL[] = [];
    let slowRead: SlowRead | null = null;
    const keyAfter = (alias: string) => (after === null ? sql`` : sql` and ${sql.raw(alias)}.primary_key > ${after}`);
    if (span.lastId !== null) {
      const stretch = { firstAt: span.firstAt as string, lastId: span.lastId };
      const latest = await latestOfKeys(tx, place, stretch, truncate, at, { after, want, walkFrom });
      parts.push(latest.part);
      slowRead = latest.slow;
    }
    const baselines = truncate === null ? await baselineParts(tx, place, span, at, keyAfter("b"), want) : [];
    parts.push(...baselines);
    const allRowsKnown = truncate !== null || baselines.length > 0;
    if (parts.length === 0) return { at, table: t, rows: [], nextCursor: null, slowRead, allRowsKnown };
    // The changes part and the baseline parts never hold the same key; baselines may, and the newest wins (rank).
    const result = await tx.execute<TableRow>(sql`
      select distinct on (primary_key) primary_key, image, json_null_fields, change_id, committed_at, baseline_id
        from (${sql.join(parts, sql` union all `)}) parts
       order by primary_key, rank
       limit ${want}`);
    const rows = result.rows.slice(0, page.limit);
    const last = rows.at(-1);
    const known = rows.filter((row): row is TableRow & { image: string } => row.image !== null);
    return {
      at,
      table: t,
      rows: known.map((row) => ({
        primaryKey: row.primary_key,
        row: new RawJson(row.image),
        jsonNullFields: row.json_null_fields,
        changeId: row.change_id,
        committedAt: row.committed_at,
        baselineId: row.baseline_id,
      })),
      nextCursor: result.rows.length > page.limit && last ? encodeKeyCursor(last.primary_key) : null,
      slowRead,
      allRowsKnown,
    };
  });
}

/**
 * The page's rows from changes: the keys lib/changes/as-of-walk.ts finds, each with its change's image, read by id
 * only where the stretch is. A key whose change is no longer stored (expired from between two kept stretches of the
 * table) comes with no image: the trail does not know the row then, and the page leaves it out.
 */
async function latestOfKeys(
  db: Queryable,
  t: TablePlace,
  span: { firstAt: string; lastId: string },
  truncate: ChangeRow | null,
  at: string,
  page: { after: string | null; want: number; walkFrom: number },
): Promise<{ part: SQL; slow: SlowRead | null }> {
  const stretch = { firstAt: span.firstAt, lastId: span.lastId, truncateId: truncate?.id ?? null, at };
  const { keys, slow } = await pageKeys(db, t, stretch, page.after, page.want, page.walkFrom);
  const image = tableBranches(
    t,
    { from: span.firstAt, to: at },
    (relation, bounds) => sql`(
      select c.after::text as image, c.after_json_null_fields as json_null_fields,
             ${iso("c.committed_at")} as committed_at
        from ${relation} c where ${bounds}c.id = k.id and ${sameTable(t)})`,
  );
  const part = sql`(
    select k.primary_key, i.image, i.json_null_fields, k.id::text as change_id, i.committed_at,
           null::text as baseline_id, 0 as rank
      from (${keys}) k left join lateral (${sql.join(image, sql` union all `)} limit 1) i on true
     order by k.primary_key)`;
  return { part, slow };
}

/**
 * One part per finished baseline of the table: its rows in key order, each one only if no change of its key came
 * at or before `at` nor at or before the baseline's snapshot (one hash index probe per row and place the table's
 * changes can be in, up to a page).
 */
async function baselineParts(
  db: Queryable,
  t: TablePlace,
  span: TableSpan,
  at: string,
  keyAfter: SQL,
  want: number,
): Promise<SQL[]> {
  const done = await db.execute<{ id: string }>(sql`
    select id::text as id from baselines
     where source_id = ${t.sourceId}::uuid and schema = ${t.schema} and "table" = ${t.table} and status = 'done'
     order by created_at desc`);
  const parts: SQL[] = [];
  for (const [index, baseline] of done.rows.entries()) {
    const changed = changeOfKey(
      t,
      span,
      sql`(c.committed_at <= ${at}::timestamptz
           or c.commit_lsn <= (select consistent_lsn from baselines where id = ${baseline.id}::uuid))`,
    );
    parts.push(sql`(
      select b.primary_key, b.image::text as image, b.json_null_fields, null::text as change_id,
             null::text as committed_at, b.baseline_id::text as baseline_id, ${index + 1}::int as rank
        from baseline_rows b
       where b.baseline_id = ${baseline.id}::uuid${keyAfter} and not ${changed}
       order by b.primary_key limit ${want})`);
  }
  return parts;
}
