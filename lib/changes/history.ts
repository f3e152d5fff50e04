import type { Queryable } from "../db/client";
import { toChange, type Change } from "./change";
import { decodeCursor, encodeCursor } from "./cursor";
import { readChanges } from "./list";
import { resolveScope } from "./scope";
import { inSnapshot } from "./snapshot";

/** One row of a source table: its table (as the table filter takes it) and key (as the primaryKey filter does). */
export type RecordRef = { table: string; primaryKey: string; database?: string; sourceId?: string };

export type RecordHistory = { changes: Change[]; nextCursor: string | null };

/** Every change of one row, newest first, keyset-paged: by the hash index on primary_key, a record's few rows. */
export async function recordHistory(
  db: Queryable,
  record: RecordRef,
  page: { cursor?: string; limit: number },
): Promise<RecordHistory> {
  const before = page.cursor === undefined ? null : decodeCursor(page.cursor).id;
  return inSnapshot(db, async (tx) => {
    const scope = await resolveScope(tx, record);
    const rows = scope === null ? [] : await readChanges(tx, scope, before, page.limit + 1);
    const shown = rows.slice(0, page.limit);
    const last = shown.at(-1);
    return {
      changes: shown.map(toChange),
      nextCursor: rows.length > page.limit && last ? encodeCursor(last.id) : null,
    };
  });
}
