/**
 * Where a page of a transaction's changes continues: after the `seq` of the last change shown (a change's
 * ordinal in its transaction). Client-safe: the change page builds the cursor after the first page, which comes
 * with the change itself, and the server reads it back.
 */
export function transactionCursor(lastSeq: number): string {
  return String(lastSeq);
}

const MAX_SEQ = 2147483647;

/** The seq a cursor continues after, or null for anything transactionCursor did not make. */
export function readTransactionCursor(cursor: string): number | null {
  if (!/^(0|[1-9][0-9]{0,9})$/.test(cursor)) return null;
  const seq = Number(cursor);
  return seq <= MAX_SEQ ? seq : null;
}
