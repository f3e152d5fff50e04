/**
 * SQL for a timestamptz `expression` as text in ISO 8601, UTC, with all six fraction digits
 * ("2024-02-29T23:59:59.123456Z"): what microsToTimestamp prints and the COPY writer parses. Read
 * as text, a timestamp keeps its microseconds (a JavaScript Date would drop them). Raw SQL takes
 * the text as it is; drizzle's `sql` takes it through `sql.raw`. `expression` is SQL, never input.
 */
export function isoTimestampSql(expression: string): string {
  return `to_char(${expression} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}
