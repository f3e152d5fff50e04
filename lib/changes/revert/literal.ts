import { quoteIdent, quoteLiteral } from "../../sources/sql";
import { arraySpans } from "./json-spans";

/**
 * Stored image values back into SQL, exactly. An image holds each value as the worker wrote it (lib/replication/
 * decode.ts): numbers and booleans as JSON literals with every digit, json/jsonb embedded, arrays as JSON arrays,
 * SQL NULL as null, everything else as PostgreSQL's own text form in a JSON string. Each becomes a string literal
 * cast to the column's type as the source's catalog names it, so the source parses the very text it printed.
 */

/** A column of a source table, as the revert needs it (lib/changes/revert/catalog.ts reads it). */
export type ColumnInfo = {
  name: string;
  /** format_type(): `numeric(12,2)`, `"My Schema"."my type"[]`. */
  type: string;
  /** json or jsonb (or a domain over one): the image embeds the document itself. */
  json: boolean;
  /** An array type: the image holds a JSON array (or, with explicit bounds, the array's text form). */
  array: boolean;
  /** An array of json/jsonb: its elements are documents, not dimensions. */
  elementJson: boolean;
  /** The element type's delimiter in the array's text form (`,`; `;` for box). */
  delimiter: string;
  /** A generated column: never written. */
  generated: boolean;
  /** GENERATED ALWAYS AS IDENTITY: writing it takes OVERRIDING SYSTEM VALUE. */
  identityAlways: boolean;
};

export type TableInfo = {
  schema: string;
  table: string;
  /** In the table's column order. */
  columns: ColumnInfo[];
  /** The primary key's (or replica identity index's) columns in key order; empty when it has none. */
  key: string[];
};

export function qualifiedName(table: Pick<TableInfo, "schema" | "table">): string {
  return `${quoteIdent(table.schema)}.${quoteIdent(table.table)}`;
}

/** An array element in an array literal: double-quoted, with `"` and `\` escaped. */
function arrayElement(text: string): string {
  return `"${text.replace(/[\\"]/g, "\\$&")}"`;
}

/** A JSON array of an image as PostgreSQL's array text (`{1,NULL,"a b"}`), nested arrays as dimensions. */
export function arrayText(raw: string, column: Pick<ColumnInfo, "elementJson" | "delimiter">): string {
  const parts = arraySpans(raw).map((element) => {
    if (element === "null") return "NULL";
    if (column.elementJson) return arrayElement(element);
    if (element.startsWith("[")) return arrayText(element, column);
    if (element.startsWith('"')) return arrayElement(JSON.parse(element) as string);
    return element;
  });
  return `{${parts.join(column.delimiter)}}`;
}

/**
 * A value of an image (its raw JSON text) as an SQL expression of the column's type. `jsonNull`: the column is
 * listed among the image's JSON-null fields, so its `null` is the JSON literal, not SQL NULL.
 */
export function valueSql(column: ColumnInfo, raw: string, jsonNull: boolean): string {
  const cast = `::${column.type}`;
  if (raw === "null") return column.json && jsonNull ? `'null'${cast}` : `NULL${cast}`;
  if (column.json) return `${quoteLiteral(raw)}${cast}`;
  if (column.array && raw.startsWith("[")) return `${quoteLiteral(arrayText(raw, column))}${cast}`;
  if (raw.startsWith('"')) return `${quoteLiteral(JSON.parse(raw) as string)}${cast}`;
  return `${quoteLiteral(raw)}${cast}`;
}
