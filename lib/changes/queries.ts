import type { Queryable } from "../db/client";
import { toChange, type Change } from "./change";
import { findChangeRow, readTransaction } from "./locate";
import { inSnapshot } from "./snapshot";

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

/**
 * One change and the first changes of its transaction (same source and commit LSN); null when absent. Read in one
 * snapshot: where it is (the summary, the partitions) and the rows agree even while the partition keeper moves rows.
 */
export async function getChange(db: Queryable, id: string): Promise<ChangeDetail | null> {
  return inSnapshot(db, async (tx) => {
    const row = await findChangeRow(tx, id);
    if (!row) return null;
    const siblings = await readTransaction(tx, row, undefined, TRANSACTION_LIMIT + 1);
    return {
      change: toChange(row),
      transaction: siblings.slice(0, TRANSACTION_LIMIT).map(toChange),
      transactionTruncated: siblings.length > TRANSACTION_LIMIT,
    };
  });
}
