import pg from "pg";
import type { ChangeRow } from "../replication/rows";

export type WriteResult = { inserted: number };

const ROWS_PER_STATEMENT = 500;

// Values shared by every row of a source transaction are bound once per statement.
const SHARED = ["source_id", "environment", "database", "transaction_id", "commit_lsn", "committed_at"] as const;
const SHARED_SQL = "$1::uuid, $2::text, $3::text, $4::bigint, $5::pg_lsn, $6::timestamptz";
const PER_ROW_CASTS = ["text", "text", "text", "operation", "jsonb", "jsonb", "text[]", "text[]", "jsonb", "int", "timestamptz"];
const PER_ROW = [
  "schema", "table", "primary_key", "operation", "before", "after", "changed_fields", "unavailable_fields", "context", "seq", "queued_at",
];
const COLUMNS = [...SHARED, ...PER_ROW].map((c) => `"${c}"`).join(", ");

function insertStatement(sourceId: string, rows: readonly ChangeRow[]): pg.QueryConfig {
  const first = rows[0];
  if (!first) throw new Error("insertStatement needs rows");
  const values: unknown[] = [sourceId, first.environment, first.database, first.transactionId, first.commitLsn, first.committedAt];
  const tuples: string[] = [];
  for (const row of rows) {
    const base = values.length;
    values.push(
      row.schema, row.table, row.primaryKey, row.operation, row.before, row.after, row.changedFields,
      row.unavailableFields.length > 0 ? row.unavailableFields : null, row.context, row.seq, row.queuedAt,
    );
    const placeholders = PER_ROW_CASTS.map((cast, i) => `$${base + i + 1}::${cast}`);
    tuples.push(`(${SHARED_SQL}, ${placeholders.join(", ")})`);
  }
  return {
    // A full-size statement is prepared once per connection: parsing thousands of placeholders
    // again for every statement cost about a third of the store's time for a large transaction.
    name: rows.length === ROWS_PER_STATEMENT ? `retrace_insert_changes_${ROWS_PER_STATEMENT}` : undefined,
    text: `insert into changes (${COLUMNS}) values ${tuples.join(", ")} on conflict (source_id, commit_lsn, seq) do nothing`,
    values,
  };
}

async function insertRows(client: pg.ClientBase, sourceId: string, rows: readonly ChangeRow[]): Promise<number> {
  let inserted = 0;
  for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
    inserted += (await client.query(insertStatement(sourceId, rows.slice(start, start + ROWS_PER_STATEMENT)))).rowCount ?? 0;
  }
  return inserted;
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

function checkRows(rows: readonly ChangeRow[], commitLsn: string): void {
  for (const row of rows) {
    if (row.commitLsn !== commitLsn) throw new Error(`Row of ${row.commitLsn} written as part of ${commitLsn}`);
  }
}

/**
 * Stores one source transaction's changes and advances the source's checkpoint to its commit
 * LSN, atomically, in one store transaction. Idempotent: rows already stored (same
 * source_id, commit_lsn, seq) are skipped, so a replay after a crash deduplicates itself.
 * All rows must belong to the transaction `commitLsn`. A transaction without tracked changes
 * only advances the checkpoint (one statement, no explicit transaction).
 *
 * `db` is a pool (a client is checked out for the transaction) or a client not in a transaction.
 * For a transaction too large to hold in memory, use StoreTransaction.
 */
export async function writeTransaction(
  db: pg.Pool | pg.ClientBase,
  sourceId: string,
  rows: readonly ChangeRow[],
  commitLsn: string,
): Promise<WriteResult> {
  checkRows(rows, commitLsn);
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
    const inserted = await insertRows(client, sourceId, rows);
    await client.query(ADVANCE_CHECKPOINT, [sourceId, commitLsn, lastChangeAt]);
    await client.query("commit");
    return { inserted };
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  }
}

/**
 * One source transaction written in batches into one store transaction, so that it never has to
 * be held whole in memory: `write` inserts a batch (the first one opens the store transaction on
 * a client checked out of the pool for its whole life), `commit` advances the checkpoint in the
 * same store transaction and commits it, `abort` rolls it back. Rows of a batch are visible to
 * nobody until the commit, and a transaction that never commits leaves nothing behind.
 *
 * Idempotent like writeTransaction: a replayed transaction's rows are skipped, so `inserted`
 * counts only rows that were not stored before. Not safe for concurrent calls: await each.
 */
export class StoreTransaction {
  private client: pg.PoolClient | null = null;
  private busy = false;
  private finished = false;
  private rowsWritten = 0;
  /** Rows inserted so far (rows already stored by an earlier attempt are not counted). */
  inserted = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly sourceId: string,
    readonly commitLsn: string,
    private readonly committedAt: string,
  ) {}

  /** Inserts a batch; opens the store transaction on the first one. Returns the rows inserted. */
  async write(rows: readonly ChangeRow[]): Promise<number> {
    if (this.finished) throw new Error("Store transaction already finished");
    checkRows(rows, this.commitLsn);
    if (rows.length === 0) return 0;
    const inserted = await this.run(async (client) => insertRows(client, this.sourceId, rows));
    this.rowsWritten += rows.length;
    this.inserted += inserted;
    return inserted;
  }

  /** Advances the checkpoint to this transaction and commits; the only way anything becomes visible. */
  async commit(): Promise<WriteResult> {
    if (this.finished) throw new Error("Store transaction already finished");
    const lastChangeAt = this.rowsWritten > 0 ? this.committedAt : null;
    const checkpoint = [this.sourceId, this.commitLsn, lastChangeAt];
    if (!this.client) {
      // Nothing was written: the checkpoint alone is one statement, no transaction needed.
      this.finished = true;
      await this.pool.query(ADVANCE_CHECKPOINT, checkpoint);
      return { inserted: 0 };
    }
    await this.run(async (client) => {
      await client.query(ADVANCE_CHECKPOINT, checkpoint);
      await client.query("commit");
    });
    this.finished = true;
    this.release(false);
    return { inserted: this.inserted };
  }

  /**
   * Rolls back whatever was written and returns the connection. If a statement is still running
   * (a drain deadline passed), the connection is closed instead, which makes the store roll back.
   */
  async abort(): Promise<void> {
    this.finished = true;
    const client = this.client;
    if (!client) return;
    if (this.busy) {
      this.release(true);
      return;
    }
    try {
      await client.query("rollback");
      this.release(false);
    } catch {
      this.release(true);
    }
  }

  private async run<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    this.busy = true;
    try {
      if (!this.client) {
        const client = await this.pool.connect();
        this.client = client;
        await client.query("begin");
      }
      return await work(this.client);
    } catch (error) {
      // A failed statement aborts the store transaction: nothing of it can commit any more.
      this.finished = true;
      await this.client?.query("rollback").catch(() => undefined);
      this.release(true);
      throw error;
    } finally {
      this.busy = false;
    }
  }

  private release(destroy: boolean): void {
    const client = this.client;
    this.client = null;
    client?.release(destroy);
  }
}
