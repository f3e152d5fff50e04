import pg from "pg";
import type { ChangeRow } from "../replication/rows";

export type WriteResult = { inserted: number };

const ROWS_PER_STATEMENT = 500;

// Values shared by every row of a source transaction are bound once per statement.
const SHARED = ["source_id", "environment", "database", "transaction_id", "commit_lsn", "committed_at"] as const;
const SHARED_SQL = "$1::uuid, $2::text, $3::text, $4::bigint, $5::pg_lsn, $6::timestamptz";
const PER_ROW_CASTS = ["text", "text", "text", "operation", "jsonb", "jsonb", "text[]", "jsonb", "int", "timestamptz"];
const PER_ROW = ["schema", "table", "primary_key", "operation", "before", "after", "changed_fields", "context", "seq", "queued_at"];
const COLUMNS = [...SHARED, ...PER_ROW].map((c) => `"${c}"`).join(", ");

function insertStatement(sourceId: string, rows: readonly ChangeRow[]): { text: string; values: unknown[] } {
  const first = rows[0];
  if (!first) throw new Error("insertStatement needs rows");
  const values: unknown[] = [sourceId, first.environment, first.database, first.transactionId, first.commitLsn, first.committedAt];
  const tuples: string[] = [];
  for (const row of rows) {
    const base = values.length;
    values.push(row.schema, row.table, row.primaryKey, row.operation, row.before, row.after, row.changedFields, row.context, row.seq, row.queuedAt);
    const placeholders = PER_ROW_CASTS.map((cast, i) => `$${base + i + 1}::${cast}`);
    tuples.push(`(${SHARED_SQL}, ${placeholders.join(", ")})`);
  }
  return {
    text: `insert into changes (${COLUMNS}) values ${tuples.join(", ")} on conflict (source_id, commit_lsn, seq) do nothing`,
    values,
  };
}

// Monotonic: a replay after a crash rewrites (and deduplicates) older transactions and must not
// move the checkpoint back.
const ADVANCE_CHECKPOINT = `
  update sources
     set checkpoint_lsn = greatest(coalesce(checkpoint_lsn, '0/0'::pg_lsn), $2::pg_lsn),
         last_change_at = greatest(last_change_at, $3::timestamptz),
         status = 'streaming',
         last_error = null,
         updated_at = now()
   where id = $1`;

/**
 * Stores one source transaction's changes and advances the source's checkpoint to its commit
 * LSN, atomically, in one store transaction. Idempotent: rows already stored (same
 * source_id, commit_lsn, seq) are skipped, so a replay after a crash deduplicates itself.
 * All rows must belong to the transaction `commitLsn`. A transaction without tracked changes
 * only advances the checkpoint (one statement, no explicit transaction).
 *
 * `db` is a pool (a client is checked out for the transaction) or a client not in a transaction.
 */
export async function writeTransaction(
  db: pg.Pool | pg.ClientBase,
  sourceId: string,
  rows: readonly ChangeRow[],
  commitLsn: string,
): Promise<WriteResult> {
  for (const row of rows) {
    if (row.commitLsn !== commitLsn) throw new Error(`Row of ${row.commitLsn} written as part of ${commitLsn}`);
  }
  const lastChangeAt = rows[0]?.committedAt ?? null;
  if (rows.length === 0) {
    await db.query(ADVANCE_CHECKPOINT, [sourceId, commitLsn, lastChangeAt]);
    return { inserted: 0 };
  }

  if (!(db instanceof pg.Pool)) return writeRows(db, sourceId, rows, commitLsn, lastChangeAt);
  const client = await db.connect();
  try {
    const result = await writeRows(client, sourceId, rows, commitLsn, lastChangeAt);
    client.release();
    return result;
  } catch (error) {
    // After a failure the connection's state is unknown (it may be the one that broke): drop it.
    client.release(true);
    throw error;
  }
}

async function writeRows(
  client: pg.ClientBase,
  sourceId: string,
  rows: readonly ChangeRow[],
  commitLsn: string,
  lastChangeAt: string | null,
): Promise<WriteResult> {
  await client.query("begin");
  try {
    let inserted = 0;
    for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
      const { text, values } = insertStatement(sourceId, rows.slice(start, start + ROWS_PER_STATEMENT));
      inserted += (await client.query(text, values)).rowCount ?? 0;
    }
    await client.query(ADVANCE_CHECKPOINT, [sourceId, commitLsn, lastChangeAt]);
    await client.query("commit");
    return { inserted };
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  }
}
