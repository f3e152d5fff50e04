import pg from "pg";
import type { ChangeRow } from "../replication/rows";

export type WriteResult = { inserted: number };

// One statement per batch, whatever its size: the rows travel as ONE jsonb parameter (an array
// of objects) that jsonb_to_recordset spreads into columns. Row images and context are JSON text
// already, so they are embedded as they are (no escaping into a parameter per value); the store
// parses them exactly as it parsed `$n::jsonb` parameters (numbers keep every digit). Measured on
// 1000-row batches (bench/work experiments, 2 cores): the worker's CPU for building and sending
// fell from ~13-15 to ~5-9 ms per 1000 rows against the former 500-row VALUES lists with 11
// parameters per row, and the store's from ~59-63 to ~48-58 ms. Values shared by a transaction's
// rows are bound once. `order by` on seq keeps the ids in change order.
const INSERT_CHANGES: Omit<pg.QueryConfig, "values"> = {
  name: "retrace_insert_changes_v2",
  text: `
    insert into changes (
      "source_id", "environment", "database", "transaction_id", "commit_lsn", "committed_at",
      "schema", "table", "primary_key", "operation", "before", "after", "changed_fields",
      "unavailable_fields", "context", "seq", "queued_at")
    select $1::uuid, $2::text, $3::text, $4::bigint, $5::pg_lsn, $6::timestamptz,
           r.s, r.t, r.k, r.o, r.b, r.a, r.c, r.u, r.x, r.n, r.q
      from jsonb_to_recordset($7::jsonb)
        as r(s text, t text, k text, o operation, b jsonb, a jsonb, c text[], u text[], x jsonb, n int, q timestamptz)
     order by r.n
    on conflict (source_id, commit_lsn, seq) do nothing`,
};

const jsonText = (value: string | null) => (value === null ? "null" : JSON.stringify(value));
const jsonTextArray = (values: readonly string[] | null) => (values === null ? "null" : JSON.stringify(values));

/** The rows as the jsonb array INSERT_CHANGES reads (see there). */
function rowsDocument(rows: readonly ChangeRow[]): string {
  const parts: string[] = new Array<string>(rows.length);
  // Consecutive rows almost always share schema and table: quote them once per run.
  let schema = "";
  let table = "";
  let schemaJson = '""';
  let tableJson = '""';
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (!row) continue;
    if (row.schema !== schema) {
      schema = row.schema;
      schemaJson = JSON.stringify(schema);
    }
    if (row.table !== table) {
      table = row.table;
      tableJson = JSON.stringify(table);
    }
    parts[i] =
      `{"s":${schemaJson},"t":${tableJson},"k":${jsonText(row.primaryKey)},"o":"${row.operation}",` +
      `"b":${row.before ?? "null"},"a":${row.after ?? "null"},"c":${jsonTextArray(row.changedFields)},` +
      `"u":${jsonTextArray(row.unavailableFields.length > 0 ? row.unavailableFields : null)},` +
      `"x":${row.context},"n":${row.seq},"q":${JSON.stringify(row.queuedAt)}}`;
  }
  return `[${parts.join(",")}]`;
}

async function insertRows(client: pg.ClientBase, sourceId: string, rows: readonly ChangeRow[]): Promise<number> {
  const first = rows[0];
  if (!first) return 0;
  const values = [sourceId, first.environment, first.database, first.transactionId, first.commitLsn, first.committedAt, rowsDocument(rows)];
  return (await client.query({ ...INSERT_CHANGES, values })).rowCount ?? 0;
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
 * be held whole in memory: `write` or `send` inserts a batch (the first one opens the store
 * transaction on a client checked out of the pool for its whole life), `commit` advances the
 * checkpoint in the same store transaction and commits it, `abort` rolls it back. Rows of a batch
 * are visible to nobody until the commit, and a transaction that never commits leaves nothing
 * behind.
 *
 * `send` lets the caller build the next batch while the store inserts this one: it returns once
 * the PREVIOUS batch is stored and this one is on its way, so at most one insert is in flight
 * and at most two batches are in memory. A failed insert is thrown by the next `send`, `write` or
 * `commit`; `commit` waits for the insert in flight, so nothing commits (and nothing can be
 * acknowledged) before every batch of the transaction is stored.
 *
 * Idempotent like writeTransaction: a replayed transaction's rows are skipped, so `inserted`
 * counts only rows that were not stored before. Not safe for concurrent calls: await each.
 */
export class StoreTransaction {
  private client: pg.PoolClient | null = null;
  private busy = false;
  private finished = false;
  /** The insert `send` started and nobody has awaited yet. */
  private pending: Promise<number> | null = null;
  /** Rows inserted so far (rows already stored by an earlier attempt are not counted). */
  inserted = 0;

  /** Commit time of the last source transaction that brought rows (the source's last change). */
  private lastChangeAt: string | null = null;

  constructor(
    private readonly pool: pg.Pool,
    private readonly sourceId: string,
    private commitLsnOfLast: string,
    private committedAt: string,
  ) {}

  /** The source transaction whose rows are being written; the checkpoint goes to it at commit. */
  get commitLsn(): string {
    return this.commitLsnOfLast;
  }

  /**
   * Group commit: the next source transaction, whose predecessors are complete, joins this store
   * transaction. The checkpoint written at `commit` becomes the last one joined; everything joined
   * commits together or not at all.
   */
  join(commitLsn: string, committedAt: string): void {
    if (this.finished) throw new Error("Store transaction already finished");
    this.commitLsnOfLast = commitLsn;
    this.committedAt = committedAt;
  }

  /** Inserts a batch; opens the store transaction on the first one. Returns the rows inserted. */
  async write(rows: readonly ChangeRow[]): Promise<number> {
    await this.settle();
    if (this.finished) throw new Error("Store transaction already finished");
    checkRows(rows, this.commitLsn);
    if (rows.length === 0) return 0;
    return this.insert(rows);
  }

  /**
   * Starts inserting a batch once the previous one is stored (its failure is thrown here) and
   * returns without waiting for this one: see the class comment.
   */
  async send(rows: readonly ChangeRow[]): Promise<void> {
    await this.settle();
    if (this.finished) throw new Error("Store transaction already finished");
    checkRows(rows, this.commitLsn);
    if (rows.length === 0) return;
    const insert = this.insert(rows);
    // Awaited by the next send, write or commit; a failure meanwhile is not an unhandled one.
    insert.catch(() => undefined);
    this.pending = insert;
  }

  private async insert(rows: readonly ChangeRow[]): Promise<number> {
    const inserted = await this.run(async (client) => insertRows(client, this.sourceId, rows));
    this.lastChangeAt = this.committedAt;
    this.inserted += inserted;
    return inserted;
  }

  /** Waits for the insert `send` started, if any; rethrows its failure. */
  private async settle(): Promise<void> {
    const pending = this.pending;
    this.pending = null;
    if (pending) await pending;
  }

  /** Advances the checkpoint to this transaction and commits; the only way anything becomes visible. */
  async commit(): Promise<WriteResult> {
    await this.settle();
    if (this.finished) throw new Error("Store transaction already finished");
    const checkpoint = [this.sourceId, this.commitLsn, this.lastChangeAt];
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
        if (this.finished) {
          // Aborted while the connection was being checked out (abort saw no client yet).
          client.release();
          throw new Error("Store transaction aborted");
        }
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
