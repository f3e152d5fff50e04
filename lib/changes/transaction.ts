import { z } from "zod";
import type { Queryable } from "../db/client";
import { toChange, type Change } from "./change";
import { findChangeRow, readTransaction } from "./locate";
import { inSnapshot } from "./snapshot";
import { singleParams } from "./params";
import { readTransactionCursor, transactionCursor } from "./transaction-cursor";

export type TransactionPage = { changes: Change[]; nextCursor: string | null };

const limitError = "limit must be an integer between 1 and 500";

const pageSchema = z.object({
  cursor: z
    .string()
    .transform((value, context) => {
      const seq = readTransactionCursor(value);
      if (seq === null) context.addIssue({ code: "custom", message: "cursor is not valid; use a page's nextCursor" });
      return seq ?? 0;
    })
    .optional(),
  limit: z.coerce.number({ error: limitError }).int(limitError).min(1, limitError).max(500, limitError).default(100),
});

export type TransactionPageRequest = { afterSeq?: number; limit: number };

/**
 * GET /api/changes/:id/transaction query parameters (empty ones count as absent, one given twice is refused).
 * Throws ZodError or Invalid (400).
 */
export function parseTransactionParams(params: URLSearchParams): TransactionPageRequest {
  const { cursor, limit } = pageSchema.parse(singleParams(params));
  return { afterSeq: cursor, limit };
}

/**
 * The changes of a change's source transaction (same source, same commit LSN) in commit order, a page at a
 * time: keyset on seq, read from the (source_id, commit_lsn, seq) unique index, so the 1000th page of a
 * transaction of millions costs what the first does. Null when there is no such change. Read in one snapshot, as
 * getChange is.
 */
export async function transactionChanges(
  db: Queryable,
  id: string,
  page: TransactionPageRequest,
): Promise<TransactionPage | null> {
  return inSnapshot(db, async (tx) => {
    const change = await findChangeRow(tx, id);
    if (!change) return null;
    const found = await readTransaction(tx, change, page.afterSeq, page.limit + 1);
    const rows = found.slice(0, page.limit);
    const last = rows[rows.length - 1];
    const more = found.length > page.limit && last !== undefined;
    return { changes: rows.map(toChange), nextCursor: more ? transactionCursor(last.seq) : null };
  });
}
