import { sql } from "drizzle-orm";
import type { Queryable } from "../db/client";
import { columns, toChange, type Change, type ChangeRow } from "./change";

export type { Change, ChangeRow } from "./change";
export type { ChangeFilters, PageRequest } from "./params";
export { listChanges, type ChangePage } from "./list";

/** How many changes of one transaction a detail view shows; transactions can be huge. */
export const TRANSACTION_LIMIT = 100;

export type ChangeDetail = {
  change: Change;
  /** The changes of the same source transaction in commit order, this one included. */
  transaction: Change[];
  /** True when the transaction has more than TRANSACTION_LIMIT changes. */
  transactionTruncated: boolean;
};

/** One change and the first changes of its transaction (same source and commit LSN); null when absent. */
export async function getChange(db: Queryable, id: string): Promise<ChangeDetail | null> {
  const found = await db.execute<ChangeRow>(sql`select ${columns} from changes c where c.id = ${id}::bigint`);
  const row = found.rows[0];
  if (!row) return null;
  const siblings = await db.execute<ChangeRow>(sql`
    select ${columns} from changes c
    where c.source_id = ${row.source_id}::uuid and c.commit_lsn = ${row.commit_lsn}::pg_lsn
    order by c.seq
    limit ${TRANSACTION_LIMIT + 1}`);
  return {
    change: toChange(row),
    transaction: siblings.rows.slice(0, TRANSACTION_LIMIT).map(toChange),
    transactionTruncated: siblings.rows.length > TRANSACTION_LIMIT,
  };
}
