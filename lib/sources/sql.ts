import { escapeIdentifier, escapeLiteral } from "pg";
import type { TableRef } from "./input";

/** PostgreSQL would reject a NUL in the statement; refuse it here, before anything is sent. */
function refuseNul(text: string, what: string): void {
  if (text.includes("\u0000")) throw new Error(`${what} cannot contain NUL characters`);
}

/** A PostgreSQL identifier, always double-quoted so any name (case, spaces, quotes) is exact. */
export function quoteIdent(name: string): string {
  refuseNul(name, "Identifiers");
  return escapeIdentifier(name);
}

/** A string literal for the rare statements that take no bind parameters (DDL). */
export function quoteLiteral(value: string): string {
  refuseNul(value, "Literals");
  // pg writes an E'' string (needed when a backslash is escaped) with a space in front.
  return escapeLiteral(value).trimStart();
}

export function quoteTable(ref: TableRef): string {
  return `${quoteIdent(ref.schema)}.${quoteIdent(ref.table)}`;
}
