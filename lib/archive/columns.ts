import { z } from "zod";
import type { SealedChange } from "../seals/chain";

/**
 * The columns of `changes` an archive carries, and how each is written to (and read back from) an archive line.
 * Every column travels as PostgreSQL's own text of it (json images exactly as stored, ids and LSNs as text, times
 * in UTC to the microsecond), `seq` as a number and text arrays as JSON arrays of strings (or null), so an import
 * stores exactly the bytes that were archived.
 */

export type ColumnKind =
  "text" | "int" | "bigint" | "uuid" | "json" | "jsonb" | "operation" | "pg_lsn" | "timestamptz" | "text[]";

export const ARCHIVE_COLUMNS = [
  ["id", "bigint"],
  ["source_id", "uuid"],
  ["bucket", "text"],
  ["environment", "text"],
  ["database", "text"],
  ["schema", "text"],
  ["table", "text"],
  ["primary_key", "text"],
  ["operation", "operation"],
  ["before", "json"],
  ["after", "json"],
  ["changed_fields", "text[]"],
  ["unavailable_fields", "text[]"],
  ["before_json_null_fields", "text[]"],
  ["after_json_null_fields", "text[]"],
  ["partition_schema", "text"],
  ["partition_table", "text"],
  ["context", "jsonb"],
  ["transaction_id", "bigint"],
  ["commit_lsn", "pg_lsn"],
  ["seq", "int"],
  ["committed_at", "timestamptz"],
  ["queued_at", "timestamptz"],
  ["created_at", "timestamptz"],
] as const satisfies readonly (readonly [string, ColumnKind])[];

export type ColumnName = (typeof ARCHIVE_COLUMNS)[number][0];

/** One archived change: each column's text (see above), `seq` a number, text arrays as arrays. */
export type ArchiveLine = Record<ColumnName, string | number | (string | null)[] | null>;

const lineSchema = z
  .object(
    Object.fromEntries(
      ARCHIVE_COLUMNS.map(([name, kind]) => [
        name,
        kind === "int"
          ? z.number().int()
          : kind === "text[]"
            ? z.array(z.string().nullable()).nullable()
            : z.string().nullable(),
      ]),
    ) as Record<string, z.ZodType>,
  )
  .strict();

/** An archive line parsed and checked to hold exactly the archived columns; throws on anything else. */
export function parseArchiveLine(text: string): ArchiveLine {
  return lineSchema.parse(JSON.parse(text)) as ArchiveLine;
}

/** The columns the seals digest, from an archive line (the same text: lib/seals/chain.ts SEALED_COLUMNS_SQL). */
export function sealedColumns(line: ArchiveLine): SealedChange {
  const text = (name: ColumnName) => {
    const value = line[name];
    return typeof value === "string" ? value : null;
  };
  return {
    id: text("id") ?? "",
    source_id: text("source_id") ?? "",
    commit_lsn: text("commit_lsn") ?? "",
    seq: typeof line.seq === "number" ? line.seq : Number.NaN,
    operation: text("operation") ?? "",
    schema: text("schema") ?? "",
    table: text("table") ?? "",
    primary_key: text("primary_key"),
    before: text("before"),
    after: text("after"),
    context: text("context"),
    committed_at: text("committed_at") ?? "",
  };
}

const quoted = (name: string) => `"${name}"`;

/** Microseconds in UTC, as the seals digest them (lib/seals/chain.ts). */
const utcMicros = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

function selectExpression(name: string, kind: ColumnKind, alias: string): string {
  const column = `${alias}.${quoted(name)}`;
  switch (kind) {
    case "text":
    case "int":
    case "text[]":
      return `${column} as ${quoted(name)}`;
    case "timestamptz":
      return `${utcMicros(column)} as ${quoted(name)}`;
    default:
      return `${column}::text as ${quoted(name)}`;
  }
}

/** The select list that reads every archived column of `changes` aliased `alias` in its archive form. */
export function archiveSelectList(alias: string): string {
  return ARCHIVE_COLUMNS.map(([name, kind]) => selectExpression(name, kind, alias)).join(", ");
}

function importExpression(name: string, kind: ColumnKind, row: string): string {
  const field = `${row}->>'${name}'`;
  switch (kind) {
    case "text":
      return field;
    case "text[]":
      return `case when json_typeof(${row}->'${name}') = 'array' then array(
        select e from json_array_elements_text(${row}->'${name}') with ordinality as a(e, n) order by n) end`;
    case "operation":
      return `(${field})::operation`;
    case "int":
      return `(${field})::integer`;
    default:
      return `(${field})::${kind}`;
  }
}

/** The select list turning a json archive line `row` back into the columns of `changes` (ARCHIVE_COLUMNS order). */
export function importSelectList(row: string): string {
  return ARCHIVE_COLUMNS.map(([name, kind]) => importExpression(name, kind, row)).join(", ");
}

export const COLUMN_NAMES: readonly string[] = ARCHIVE_COLUMNS.map(([name]) => name);

export const quotedColumnList = (): string => COLUMN_NAMES.map(quoted).join(", ");
