import type { TableRef } from "./input";

/** A PostgreSQL identifier, always double-quoted so any name (case, spaces, quotes) is exact. */
export function quoteIdent(name: string): string {
  if (name.includes("\u0000")) throw new Error("Identifiers cannot contain NUL characters");
  return `"${name.replaceAll('"', '""')}"`;
}

/** A string literal for the rare statements that take no bind parameters (DDL). */
export function quoteLiteral(value: string): string {
  if (value.includes("\u0000")) throw new Error("Literals cannot contain NUL characters");
  const escaped = value.replaceAll("'", "''");
  // E'' strings are needed only when a backslash is present and standard_conforming_strings is off.
  return value.includes("\\") ? `E'${escaped.replaceAll("\\", "\\\\")}'` : `'${escaped}'`;
}

export function quoteTable(ref: TableRef): string {
  return `${quoteIdent(ref.schema)}.${quoteIdent(ref.table)}`;
}
