import type { Operation } from "../../db/schema";
import { quoteIdent, quoteLiteral } from "../../sources/sql";
import { objectSpans } from "./json-spans";
import { qualifiedName, valueSql, type ColumnInfo, type TableInfo } from "./literal";

/**
 * The revert planner: pure. Given the changes to undo, newest first, and the source tables as its catalog
 * describes them, it writes one statement per change (CREATE → DELETE by key, DELETE → INSERT of the before
 * image, UPDATE → UPDATE setting the changed columns back, by key) and says which changes cannot be reverted
 * from the trail and why. The checks that need the trail's later changes or the live rows are in conflicts.ts.
 */

/** A change to revert, as read from the store (images as their stored JSON text). */
export type RevertChange = {
  id: string;
  schema: string;
  table: string;
  primaryKey: string | null;
  operation: Operation;
  before: string | null;
  after: string | null;
  changedFields: string[] | null;
  unavailableFields: string[] | null;
  beforeJsonNullFields: string[] | null;
  afterJsonNullFields: string[] | null;
};

export type ConflictReason =
  | "truncate"
  | "no_primary_key"
  | "table_missing"
  | "incomplete_image"
  | "masked"
  | "changed_again"
  | "row_gone"
  | "row_differs"
  | "row_exists";

/** Why a change cannot be reverted as planned, naming its row. */
export type RevertConflict = {
  changeId: string;
  schema: string;
  table: string;
  primaryKey: string | null;
  reason: ConflictReason;
  message: string;
};

export type RevertStatement = { changeId: string; sql: string };

export type RevertPlan = { statements: RevertStatement[]; conflicts: RevertConflict[] };

export const tableKey = (schema: string, table: string) => `${schema}\u0000${table}`;

/** A row image's values by column, with which of its nulls are JSON nulls. */
export type Image = { values: Map<string, string>; jsonNulls: Set<string> };

export function readImage(text: string | null, jsonNulls: string[] | null): Image | null {
  return text === null ? null : { values: objectSpans(text), jsonNulls: new Set(jsonNulls ?? []) };
}

/** `"col" = value` for each key column, joined by AND; null (with the missing columns) when the image lacks one. */
export function keyCondition(table: TableInfo, image: Image): { sql: string } | { missing: string[] } {
  const parts: string[] = [];
  const missing: string[] = [];
  for (const name of table.key) {
    const column = table.columns.find((c) => c.name === name);
    const raw = image.values.get(name);
    if (!column || raw === undefined || raw === "null") missing.push(name);
    else parts.push(`${quoteIdent(name)} = ${valueSql(column, raw, false)}`);
  }
  return missing.length > 0 ? { missing } : { sql: parts.join(" AND ") };
}

function conflict(change: RevertChange, reason: ConflictReason, message: string): RevertConflict {
  const { id, schema, table, primaryKey } = change;
  return { changeId: id, schema, table, primaryKey, reason, message };
}

const list = (names: string[]) => names.map((name) => JSON.stringify(name)).join(", ");

function incomplete(change: RevertChange, which: "before" | "after", missing: string[]): RevertConflict {
  return conflict(
    change,
    "incomplete_image",
    `The ${which} image lacks ${list(missing)} (the table's REPLICA IDENTITY was not FULL when it changed, ` +
      "the value was not sent, or the column is excluded from the trail), so the row cannot be written back exactly.",
  );
}

// A masked column's value as the worker stores it (lib/crypto/mask.ts), as JSON text.
const MASKED_VALUE = /^"hmac:[0-9a-f]{32}"$/;

/** The columns among `names` whose value in `image` is a keyed hash (a masked column): it cannot be written back. */
function maskedColumns(image: Image, names: readonly string[]): string[] {
  return names.filter((name) => MASKED_VALUE.test(image.values.get(name) ?? ""));
}

function masked(change: RevertChange, columns: string[]): RevertConflict {
  return conflict(
    change,
    "masked",
    `${list(columns)} ${columns.length === 1 ? "is" : "are"} masked in the trail (stored as a keyed hash), ` +
      "so the value cannot be written back.",
  );
}

/** The statement that undoes one change, or why there is none. */
export function revertStatement(change: RevertChange, table: TableInfo | null): RevertStatement | RevertConflict {
  if (change.operation === "TRUNCATE") {
    return conflict(
      change,
      "truncate",
      "A TRUNCATE cannot be reverted from the trail: it records that the table was emptied, not the rows it held.",
    );
  }
  if (!table) return conflict(change, "table_missing", "The table no longer exists at the source.");
  if (table.key.length === 0) {
    return conflict(change, "no_primary_key", "The table has no primary key, so its row cannot be found again.");
  }
  const name = qualifiedName(table);
  const before = readImage(change.before, change.beforeJsonNullFields);
  const after = readImage(change.after, change.afterJsonNullFields);
  if (change.operation === "CREATE") {
    if (!after) return incomplete(change, "after", table.key);
    const where = keyCondition(table, after);
    if ("missing" in where) return incomplete(change, "after", where.missing);
    const hashedKey = maskedColumns(after, table.key);
    if (hashedKey.length > 0) return masked(change, hashedKey);
    return { changeId: change.id, sql: `DELETE FROM ${name} WHERE ${where.sql};` };
  }
  if (!before)
    return incomplete(
      change,
      "before",
      table.columns.map((c) => c.name),
    );
  if (change.operation === "DELETE") {
    const written = table.columns.filter((c) => !c.generated);
    const missing = written.filter((c) => !before.values.has(c.name)).map((c) => c.name);
    if (missing.length > 0) return incomplete(change, "before", missing);
    const hashed = maskedColumns(
      before,
      written.map((c) => c.name),
    );
    if (hashed.length > 0) return masked(change, hashed);
    const values = written.map((c) => valueSql(c, before.values.get(c.name) ?? "null", before.jsonNulls.has(c.name)));
    const overriding = written.some((c) => c.identityAlways) ? " OVERRIDING SYSTEM VALUE" : "";
    return {
      changeId: change.id,
      sql:
        `INSERT INTO ${name} (${written.map((c) => quoteIdent(c.name)).join(", ")})${overriding} ` +
        `VALUES (${values.join(", ")});`,
    };
  }
  // UPDATE: the row now holds the after image; set what changed back to the before image.
  if (!after) return incomplete(change, "after", table.key);
  const where = keyCondition(table, after);
  if ("missing" in where) return incomplete(change, "after", where.missing);
  const changed = (change.changedFields ?? [])
    .map((field) => table.columns.find((c) => c.name === field))
    .filter((c): c is ColumnInfo => c !== undefined && !c.generated);
  const missing = changed.filter((c) => !before.values.has(c.name)).map((c) => c.name);
  if (missing.length > 0) return incomplete(change, "before", missing);
  const hashed = [
    ...maskedColumns(after, table.key),
    ...maskedColumns(
      before,
      changed.map((c) => c.name),
    ),
  ];
  if (hashed.length > 0) return masked(change, [...new Set(hashed)]);
  if (changed.length === 0) return { changeId: change.id, sql: `-- change ${change.id} changed no column` };
  const sets = changed.map(
    (c) => `${quoteIdent(c.name)} = ${valueSql(c, before.values.get(c.name) ?? "null", before.jsonNulls.has(c.name))}`,
  );
  return { changeId: change.id, sql: `UPDATE ${name} SET ${sets.join(", ")} WHERE ${where.sql};` };
}

/** Statements for `changes` (newest first), and the changes that cannot be reverted from the trail. */
export function planRevert(
  changes: readonly RevertChange[],
  tables: ReadonlyMap<string, TableInfo | null>,
): RevertPlan {
  const statements: RevertStatement[] = [];
  const conflicts: RevertConflict[] = [];
  for (const change of changes) {
    const result = revertStatement(change, tables.get(tableKey(change.schema, change.table)) ?? null);
    if ("reason" in result) conflicts.push(result);
    else statements.push(result);
  }
  return { statements, conflicts };
}

/** The `_retrace` context message a revert carries, so the changes it makes are labelled in the trail. */
export function contextMessageSql(contextJson: string): string {
  return `SELECT pg_logical_emit_message(true, '_retrace', ${quoteLiteral(contextJson)});`;
}

/** The whole script as a person would run it: one transaction, labelled, newest change undone first. */
export function revertScript(description: string, contextJson: string, statements: readonly RevertStatement[]): string {
  const lines = [
    `-- Retrace: revert of ${description.replace(/[\r\n]+/g, " ")} ` +
      `(${statements.length} statement${statements.length === 1 ? "" : "s"}, newest first)`,
    "BEGIN;",
    contextMessageSql(contextJson),
  ];
  for (const statement of statements) {
    if (!statement.sql.startsWith("--")) lines.push(`-- change ${statement.changeId}`);
    lines.push(statement.sql);
  }
  lines.push("COMMIT;");
  return `${lines.join("\n")}\n`;
}
