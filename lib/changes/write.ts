import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import type { ChangeRow } from "../replication/rows";

export type WriteResult = { inserted: number };

/**
 * How a batch reaches `changes`:
 * - `copy`: COPY FROM STDIN in text format. The fast path: the store builds tuples a page at a
 *   time and needs no per-row conflict check. A duplicate (same source_id, commit_lsn, seq)
 *   fails the unique index instead of being skipped, so the caller must never resend a stored
 *   row: the session skips every source transaction at or below the stored checkpoint, which is
 *   exactly the set already stored (the checkpoint is written in the same store transaction).
 * - `insert`: INSERT … ON CONFLICT DO NOTHING, which skips rows already stored. Used for a
 *   session after one failed on the unique index (something stored rows beyond the checkpoint,
 *   e.g. a second writer), so that it converges instead of failing again.
 *
 * Measured on this 2-core machine (store CPU per 1000-row batch with the index set of
 * drizzle/0003, json images): COPY ~19 µs a row, INSERT from jsonb_to_recordset ~46 µs.
 */
export type WriteMode = "copy" | "insert";

const COLUMNS = [
  "source_id", "environment", "database", "transaction_id", "commit_lsn", "committed_at", "schema", "table",
  "primary_key", "operation", "before", "after", "changed_fields", "unavailable_fields", "context", "seq", "queued_at",
] as const;

const COPY_CHANGES = `copy changes (${COLUMNS.map((c) => `"${c}"`).join(", ")}) from stdin`;

// One statement per batch: the rows travel as ONE json parameter (an array of objects) that
// json_to_recordset spreads into columns; row images are json already, so they are embedded as
// they are and keep their text (json_to_recordset hands a json column its exact text).
const INSERT_CHANGES: Omit<pg.QueryConfig, "values"> = {
  name: "retrace_insert_changes_v3",
  text: `
    insert into changes (${COLUMNS.map((c) => `"${c}"`).join(", ")})
    select $1::uuid, $2::text, $3::text, r.i, r.l, r.w, r.s, r.t, r.k, r.o, r.b, r.a, r.c, r.u, r.x, r.n, r.q
      from json_to_recordset($4::json)
        as r(i bigint, l pg_lsn, w timestamptz, s text, t text, k text, o operation, b json, a json,
             c text[], u text[], x jsonb, n int, q timestamptz)
     order by r.l, r.n
    on conflict (source_id, commit_lsn, seq) do nothing`,
};

const COPY_ESCAPES: Record<string, string> = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" };
const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_SPECIAL_ALL = /[\\\t\n\r]/g;

/** A value in COPY's text format: backslash, tab, newline and carriage return escaped. */
export function copyText(value: string): string {
  return COPY_SPECIAL.test(value) ? value.replace(COPY_SPECIAL_ALL, (c) => COPY_ESCAPES[c] ?? c) : value;
}

/** A text[] literal (every element quoted), as COPY text. */
export function copyTextArray(values: readonly string[] | null): string {
  if (values === null) return "\\N";
  const elements = values.map((value) => `"${value.replace(/["\\]/g, "\\$&")}"`);
  return copyText(`{${elements.join(",")}}`);
}

const copyNullable = (value: string | null) => (value === null ? "\\N" : copyText(value));

/** The rows as COPY text-format lines, in COLUMNS order. */
export function copyLines(sourceId: string, rows: readonly ChangeRow[]): string {
  const lines = new Array<string>(rows.length);
  // Consecutive rows almost always share these: escape them once per run.
  let environment: string | null = null;
  let environmentText = "";
  let database: string | null = null;
  let databaseText = "";
  let schema: string | null = null;
  let schemaText = "";
  let table: string | null = null;
  let tableText = "";
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as ChangeRow;
    if (row.environment !== environment) environmentText = copyText((environment = row.environment));
    if (row.database !== database) databaseText = copyText((database = row.database));
    if (row.schema !== schema) schemaText = copyText((schema = row.schema));
    if (row.table !== table) tableText = copyText((table = row.table));
    lines[i] =
      `${sourceId}\t${environmentText}\t${databaseText}\t${row.transactionId}\t${row.commitLsn}\t${row.committedAt}\t` +
      `${schemaText}\t${tableText}\t${copyNullable(row.primaryKey)}\t${row.operation}\t${copyNullable(row.before)}\t` +
      `${copyNullable(row.after)}\t${copyTextArray(row.changedFields)}\t${copyTextArray(row.unavailableFields.length > 0 ? row.unavailableFields : null)}\t` +
      `${copyText(row.context)}\t${row.seq}\t${row.queuedAt}\n`;
  }
  return lines.join("");
}

const jsonString = (value: string | null) => (value === null ? "null" : JSON.stringify(value));
const jsonStrings = (values: readonly string[] | null) => (values === null ? "null" : JSON.stringify(values));

/** The rows as the json array INSERT_CHANGES reads. */
function rowsDocument(rows: readonly ChangeRow[]): string {
  const parts = new Array<string>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as ChangeRow;
    parts[i] =
      `{"i":${row.transactionId},"l":"${row.commitLsn}","w":"${row.committedAt}","s":${JSON.stringify(row.schema)},` +
      `"t":${JSON.stringify(row.table)},"k":${jsonString(row.primaryKey)},"o":"${row.operation}",` +
      `"b":${row.before ?? "null"},"a":${row.after ?? "null"},"c":${jsonStrings(row.changedFields)},` +
      `"u":${jsonStrings(row.unavailableFields.length > 0 ? row.unavailableFields : null)},"x":${row.context},"n":${row.seq},"q":"${row.queuedAt}"}`;
  }
  return `[${parts.join(",")}]`;
}

/** A batch ready to go: built while the previous batch is still being written. */
type Payload = { mode: "copy"; text: string } | { mode: "insert"; values: unknown[] };

function payload(mode: WriteMode, sourceId: string, rows: readonly ChangeRow[]): Payload {
  if (mode === "copy") return { mode, text: copyLines(sourceId, rows) };
  const first = rows[0] as ChangeRow;
  return { mode, values: [sourceId, first.environment, first.database, rowsDocument(rows)] };
}

async function writePayload(client: pg.ClientBase, batch: Payload): Promise<number> {
  if (batch.mode === "insert") return (await client.query({ ...INSERT_CHANGES, values: batch.values })).rowCount ?? 0;
  const stream = client.query(copyFrom(COPY_CHANGES));
  await new Promise<void>((resolve, reject) => {
    stream.on("error", reject);
    stream.on("finish", resolve);
    stream.end(batch.text);
  });
  return stream.rowCount;
}

// Monotonic: a replay after a crash rewrites (and deduplicates) older transactions and must not
// move the checkpoint back. Updating no row means the source was deleted meanwhile: the store
// transaction must not commit rows of a source that no longer exists (changes has no foreign key).
const ADVANCE_CHECKPOINT = `
  update sources
     set checkpoint_lsn = greatest(coalesce(checkpoint_lsn, '0/0'::pg_lsn), $2::pg_lsn),
         last_change_at = greatest(last_change_at, $3::timestamptz),
         status = 'streaming',
         last_error = null,
         updated_at = now()
   where id = $1`;

async function advanceCheckpoint(db: pg.Pool | pg.ClientBase, values: unknown[]): Promise<void> {
  const { rowCount } = await db.query(ADVANCE_CHECKPOINT, values);
  if (rowCount !== 1) throw new Error("Source no longer exists in the store");
}

/**
 * One store transaction that rows of any number of source transactions are written into in
 * batches, and that commits with the checkpoint of the last complete one (group commit). The
 * first batch opens it on a client checked out of the pool for its whole life; rows are visible
 * to nobody until the commit, and a store transaction that never commits leaves nothing behind.
 *
 * `send` lets the caller build the next batch while the store writes this one: it returns once
 * the PREVIOUS batch is stored and this one is on its way, so at most one batch is in flight. A
 * failed batch is thrown by the next `send` or by `commit`; `commit` waits for the batch in
 * flight, so nothing commits (and nothing can be acknowledged) before every batch is stored.
 * Not safe for concurrent calls: await each.
 */
export class StoreTransaction {
  private client: pg.PoolClient | null = null;
  private busy = false;
  private finished = false;
  /** send() calls that have not returned yet. */
  private sending = 0;
  /** The batch `send` started and nobody has awaited yet. */
  private pending: Promise<void> | null = null;
  /** Rows inserted so far (in `insert` mode, rows already stored are skipped and not counted). */
  inserted = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly sourceId: string,
    private readonly mode: WriteMode = "copy",
  ) {}

  /** Whether a batch has been written, i.e. a store transaction is open. */
  get opened(): boolean {
    return this.client !== null || this.pending !== null;
  }

  /**
   * Starts writing a batch once the previous one is stored (its failure is thrown here) and
   * returns without waiting for this one: see the class comment.
   */
  async send(rows: readonly ChangeRow[]): Promise<void> {
    this.sending++;
    try {
      // Built before waiting, so the store starts on it the moment the previous batch is stored.
      const batch = rows.length > 0 ? payload(this.mode, this.sourceId, rows) : null;
      await this.settle();
      if (this.finished) throw new Error("Store transaction already finished");
      if (!batch) return;
      const write = this.run(async (client) => {
        this.inserted += await writePayload(client, batch);
      });
      // Awaited by the next send or commit; a failure meanwhile is not an unhandled one.
      write.catch(() => undefined);
      this.pending = write;
    } finally {
      this.sending--;
    }
  }

  /** Waits for the batch `send` started, if any; rethrows its failure. */
  private async settle(): Promise<void> {
    const pending = this.pending;
    this.pending = null;
    if (pending) await pending;
  }

  /**
   * Advances the checkpoint to `commitLsn` (and the source's last change time to `lastChangeAt`,
   * unless null) and commits: the only way anything becomes visible.
   */
  async commit(commitLsn: string, lastChangeAt: string | null): Promise<WriteResult> {
    // A send still waiting for its turn holds rows that would be left out of this commit.
    if (this.sending > 0) throw new Error("Store transaction committed while a batch was being sent");
    await this.settle();
    if (this.finished) throw new Error("Store transaction already finished");
    const checkpoint = [this.sourceId, commitLsn, lastChangeAt];
    if (!this.client) {
      // Nothing was written: the checkpoint alone is one statement, no transaction needed.
      this.finished = true;
      await advanceCheckpoint(this.pool, checkpoint);
      return { inserted: 0 };
    }
    await this.run(async (client) => {
      await advanceCheckpoint(client, checkpoint);
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
