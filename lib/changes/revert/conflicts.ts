import { sql, type SQL } from "drizzle-orm";
import type pg from "pg";
import type { Queryable } from "../../db/client";
import { isoTimestampSql } from "../../db/iso-timestamp";
import { quoteIdent } from "../../sources/sql";
import { queryEach } from "./batch";
import { qualifiedName, valueSql, type TableInfo } from "./literal";
import { placeOf, sameTable, tableBranches, type TrailTable } from "../as-of-trail";
import { keyCondition, readImage, tableKey, type RevertChange, type RevertConflict } from "./plan";

/**
 * The checks made before a revert is offered (and again, under row locks, before it runs): a row changed again
 * later by changes the revert does not include (from the trail), and a live row that is gone, differs from what
 * the reverted changes left, or exists again where they deleted it (from the source).
 */

/** The reverted changes of one row, newest first: the first is the state the live row should be in. */
export type RowGroup = { schema: string; table: string; primaryKey: string; changes: RevertChange[] };

/** Changes (newest first) grouped by row; changes without a key (TRUNCATE, keyless tables) belong to none. */
export function groupByRow(changes: readonly RevertChange[]): RowGroup[] {
  const groups = new Map<string, RowGroup>();
  for (const change of changes) {
    if (change.primaryKey === null || change.operation === "TRUNCATE") continue;
    const key = `${tableKey(change.schema, change.table)}\u0000${change.primaryKey}`;
    const group = groups.get(key);
    if (group) group.changes.push(change);
    else groups.set(key, { ...change, primaryKey: change.primaryKey, changes: [change] });
  }
  return [...groups.values()];
}

function describe(group: RowGroup, reason: RevertConflict["reason"], message: string): RevertConflict {
  const newest = group.changes[0];
  return {
    changeId: newest?.id ?? "",
    schema: group.schema,
    table: group.table,
    primaryKey: group.primaryKey,
    reason,
    message,
  };
}

type LaterRow = { position: number; id: string; operation: string; committed_at: string };

/**
 * Rows the trail shows changed after the oldest reverted change of that row, by a change the revert leaves out. Each
 * table's rows are looked up only where the table's later changes can be (lib/changes/as-of-trail.ts): its buckets,
 * from the commit time of the first summary segment holding an id past the oldest reverted one.
 */
export async function trailConflicts(
  db: Queryable,
  sourceId: string,
  groups: readonly RowGroup[],
  revertedIds: readonly string[],
): Promise<RevertConflict[]> {
  const byTable = new Map<string, { schema: string; table: string; positions: number[] }>();
  groups.forEach((group, index) => {
    const key = tableKey(group.schema, group.table);
    const entry = byTable.get(key) ?? { schema: group.schema, table: group.table, positions: [] };
    entry.positions.push(index);
    byTable.set(key, entry);
  });
  const conflicts: { position: number; conflict: RevertConflict }[] = [];
  for (const { schema, table, positions } of byTable.values()) {
    for (const row of await laterChanges(db, { sourceId, schema, table }, positions, groups, revertedIds)) {
      const group = groups[row.position];
      if (!group) continue;
      const message =
        `Changed again later by change ${row.id} (${row.operation} at ${row.committed_at}), ` +
        "which this revert does not include: reverting would overwrite it.";
      conflicts.push({ position: row.position, conflict: describe(group, "changed_again", message) });
    }
  }
  return conflicts.sort((a, b) => a.position - b.position).map((entry) => entry.conflict);
}

/** For the rows of one table (their positions among `groups`), the first later change the revert leaves out. */
async function laterChanges(
  db: Queryable,
  t: TrailTable,
  positions: number[],
  groups: readonly RowGroup[],
  revertedIds: readonly string[],
): Promise<LaterRow[]> {
  const oldest = positions.map((position) => {
    const changes = groups[position]?.changes ?? [];
    return changes[changes.length - 1]?.id ?? "0";
  });
  const from = await db.execute<{ at: string | null }>(sql`
    select ${sql.raw(isoTimestampSql("min(s.min_at)"))} as at from change_segments s
     where s.source_id = ${t.sourceId}::uuid and s.schema = ${t.schema} and s."table" = ${t.table}
       and s.max_id > ${oldest.reduce((a, b) => (BigInt(a) < BigInt(b) ? a : b))}::bigint`);
  const at = from.rows[0]?.at ?? null;
  if (at === null) return [];
  const place = await placeOf(db, t);
  const reverted = sql`c.id <> all(${sql.param(revertedIds)}::bigint[])`;
  const later = (match: SQL) =>
    tableBranches(
      place,
      { from: at, to: null },
      (relation, bounds) => sql`(
        select c.id, c.operation, c.committed_at from ${relation} c
         where ${bounds}${match} and ${sameTable(t)} and c.id > k.oldest_id and ${reverted}
         order by c.id limit 1)`,
    );
  const branches = [...later(sql`c.primary_key = k.pk`), ...later(sql`c.operation = 'TRUNCATE'`)];
  const result = await db.execute<LaterRow>(sql`
    select k.position, later.id::text as id, later.operation::text as operation,
           ${sql.raw(isoTimestampSql("later.committed_at"))} as committed_at
      from unnest(${sql.param(positions.map((position) => groups[position]?.primaryKey ?? ""))}::text[],
                  ${sql.param(oldest)}::bigint[], ${sql.param(positions)}::int[]) as k(pk, oldest_id, position)
      cross join lateral (select * from (${sql.join(branches, sql` union all `)}) found order by id limit 1) later
     order by k.position`);
  return result.rows;
}

/** The query that reads a row's live state against what it should be; null when its key cannot be read. */
export function liveQuery(
  group: RowGroup,
  table: TableInfo,
  lock: boolean,
): { sql: string; expectPresent: boolean; columns: string[] } | null {
  const newest = group.changes[0];
  if (!newest) return null;
  const expectPresent = newest.operation !== "DELETE";
  const image = expectPresent
    ? readImage(newest.after, newest.afterJsonNullFields)
    : readImage(newest.before, newest.beforeJsonNullFields);
  if (!image) return null;
  const where = keyCondition(table, image);
  if ("missing" in where) return null;
  const compared = expectPresent ? table.columns.filter((column) => image.values.has(column.name)) : [];
  const selected = compared.map((column, index) => {
    const expected = valueSql(column, image.values.get(column.name) ?? "null", image.jsonNulls.has(column.name));
    return `(${quoteIdent(column.name)})::text IS NOT DISTINCT FROM (${expected})::text AS c${index}`;
  });
  const locking = lock ? " FOR UPDATE" : "";
  return {
    sql:
      `SELECT ${selected.length > 0 ? selected.join(", ") : "1 AS present"} ` +
      `FROM ${qualifiedName(table)} WHERE ${where.sql}${locking}`,
    expectPresent,
    columns: compared.map((column) => column.name),
  };
}

/** Rows whose live state is not what the reverted changes left: gone, different, or back after a DELETE. */
export async function liveConflicts(
  client: pg.ClientBase,
  groups: readonly RowGroup[],
  tables: ReadonlyMap<string, TableInfo | null>,
  lock: boolean,
): Promise<RevertConflict[]> {
  const checks = groups.flatMap((group) => {
    const table = tables.get(tableKey(group.schema, group.table));
    const query = table && table.key.length > 0 ? liveQuery(group, table, lock) : null;
    return query ? [{ group, query }] : [];
  });
  // A batch of checks per round trip (lib/changes/revert/batch.ts), in the order the rows' changes are undone.
  const sent = checks.map((check) => check.query.sql);
  const results = await queryEach<Record<string, boolean | number>>(client, sent);
  const conflicts: RevertConflict[] = [];
  for (const [index, { group, query }] of checks.entries()) {
    const row = results[index]?.rows[0];
    if (!query.expectPresent) {
      if (row) {
        conflicts.push(
          describe(group, "row_exists", "The row was deleted by this change but exists again at the source."),
        );
      }
      continue;
    }
    if (!row) {
      conflicts.push(describe(group, "row_gone", "The row no longer exists at the source."));
      continue;
    }
    const differing = query.columns.filter((_, index) => row[`c${index}`] === false);
    if (differing.length > 0) {
      conflicts.push(
        describe(
          group,
          "row_differs",
          `The live row at the source differs from what this change left, in ` +
            `${differing.map((c) => JSON.stringify(c)).join(", ")}.`,
        ),
      );
    }
  }
  return conflicts;
}
