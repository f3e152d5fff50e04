import type { Queryable } from "../db/client";
import { stringifyWithRaw } from "../http/json";
import type { Change } from "./change";
import { listChanges } from "./list";
import type { ChangeFilters } from "./params";
import { streamInSnapshot } from "./snapshot";

export type ExportFormat = "ndjson" | "csv";

/** Rows read at a time: memory stays at one page whatever the export's size. */
const EXPORT_PAGE = 500;

const CSV_COLUMNS = [
  "id",
  "committedAt",
  "environment",
  "database",
  "schema",
  "table",
  "primaryKey",
  "operation",
  "changedFields",
  "context",
  "before",
  "after",
  "transactionId",
  "commitLsn",
  "seq",
  "sourceId",
] as const;

/**
 * A filtered list exported in the list's order (newest first), page by page as the reader takes it: one NDJSON line
 * (the API's Change) or one CSV record per change, the CSV with a header. Row images and context are their JSON
 * text in either format, digit for digit. Every page is read in one snapshot of the store (one read-only
 * REPEATABLE READ transaction held for the whole export), so an export holds exactly the changes stored when it
 * began, however long it runs; ending it early (`return()`, as a client that goes away does) ends the transaction
 * and gives its connection back.
 */
export async function* exportChanges(db: Queryable, filters: ChangeFilters, format: ExportFormat) {
  if (format === "csv") yield `${CSV_COLUMNS.join(",")}\r\n`;
  yield* streamInSnapshot(db, (tx) => exportPages(tx, filters, format));
}

async function* exportPages(db: Queryable, filters: ChangeFilters, format: ExportFormat) {
  let cursor: string | undefined;
  do {
    const page = await listChanges(db, filters, { cursor, limit: EXPORT_PAGE });
    yield page.changes.map(format === "csv" ? csvRecord : ndjsonLine).join("");
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
}

function ndjsonLine(change: Change): string {
  return `${stringifyWithRaw(change)}\n`;
}

function csvRecord(change: Change): string {
  const values: Record<(typeof CSV_COLUMNS)[number], string | null> = {
    id: change.id,
    committedAt: change.committedAt,
    environment: change.environment,
    database: change.database,
    schema: change.schema,
    table: change.table,
    primaryKey: change.primaryKey,
    operation: change.operation,
    changedFields: change.changedFields === null ? null : JSON.stringify(change.changedFields),
    context: change.context.text,
    before: change.before?.text ?? null,
    after: change.after?.text ?? null,
    transactionId: change.transactionId,
    commitLsn: change.commitLsn,
    seq: String(change.seq),
    sourceId: change.sourceId,
  };
  return `${CSV_COLUMNS.map((column) => csvField(values[column])).join(",")}\r\n`;
}

/**
 * RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. Null is an empty field, an
 * empty string a quoted one.
 */
function csvField(value: string | null): string {
  if (value === null) return "";
  if (value === "") return '""';
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
