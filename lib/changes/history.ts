import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Queryable } from "../db/client";
import { decodeCursor, encodeCursor } from "./cursor";
import type { RecordKey } from "./history-key";
import { columns, tableCondition, toChange, type ChangePage, type ChangeRow, type PageRequest } from "./queries";

export type { RecordKey };

const limitError = "limit must be an integer between 1 and 500";
const text = z.string().trim().min(1).max(500);

const historySchema = z
  .object({
    table: text,
    primaryKey: z.string().min(1).max(2000),
    database: text.optional(),
    sourceId: z.uuid({ error: "sourceId must be a UUID" }).optional(),
    cursor: z.string().max(200).optional(),
    limit: z.coerce.number({ error: limitError }).int(limitError).min(1, limitError).max(500, limitError).default(50),
  })
  .refine((params) => params.database !== undefined || params.sourceId !== undefined, {
    message: "database or sourceId is required",
    path: ["database"],
  });

/**
 * GET /api/records/history query parameters. Empty parameters count as absent; table and primaryKey are
 * required, and database or sourceId. Throws ZodError (400) naming the parameter.
 */
export function parseHistoryParams(params: URLSearchParams): { key: RecordKey; page: PageRequest } {
  const present: Record<string, string> = {};
  for (const [name, value] of params) if (value !== "") present[name] = value;
  const { cursor, limit, ...key } = historySchema.parse(present);
  return { key, page: { cursor, limit } };
}

/**
 * Every change of one row, newest first, keyset-paginated on id. The primary key's hash index finds the row's
 * few changes among millions; source and table narrow them to the one row. A TRUNCATE of the table names no
 * row and is not part of a row's history.
 */
export async function recordHistory(db: Queryable, key: RecordKey, page: PageRequest): Promise<ChangePage> {
  const conditions = [sql`c.primary_key = ${key.primaryKey}`, tableCondition(key.table)];
  if (key.sourceId) conditions.push(sql`c.source_id = ${key.sourceId}::uuid`);
  if (key.database) conditions.push(sql`c.database = ${key.database}`);
  if (page.cursor !== undefined) conditions.push(sql`c.id < ${decodeCursor(page.cursor).id}::bigint`);
  const result = await db.execute<ChangeRow>(sql`
    select ${columns} from changes c
    where ${sql.join(conditions, sql` and `)}
    order by c.id desc
    limit ${page.limit + 1}`);
  const rows = result.rows.slice(0, page.limit);
  const last = rows[rows.length - 1];
  const more = result.rows.length > page.limit && last !== undefined;
  return { changes: rows.map(toChange), nextCursor: more ? encodeCursor(last.id) : null };
}
