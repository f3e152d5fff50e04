import type pg from "pg";
import { clientSocket } from "../db/client";
import { NO_CONTEXT, type ChangeRow } from "../replication/change-row";
import { advanceCheckpoint } from "../sources/status";
import { ChangesCopyEncoder, COLUMNS } from "./copy-binary";
import { CopyIn } from "./copy-in";
import { LAST_ID_SQL, SegmentTally, summarizeRowsSql } from "./segments";

export type WriteResult = { inserted: number };

/**
 * How a batch reaches `changes`:
 * - `copy`: COPY FROM STDIN in binary format (copy-binary.ts). The fast path: the store builds
 *   tuples a page at a time, needs no per-row conflict check, and parses no timestamps, LSNs,
 *   ids or escapes. A duplicate (same source_id, commit_lsn, seq) fails the unique index
 *   instead of being skipped, so the caller must never resend a stored row: the session skips
 *   every source transaction at or below the stored checkpoint, which is exactly the set already
 *   stored (the checkpoint is written in the same store transaction).
 * - `insert`: INSERT … ON CONFLICT DO NOTHING, which skips rows already stored. Used for a
 *   session after one failed on the unique index (something stored rows beyond the checkpoint,
 *   e.g. a second writer), so that it converges instead of failing again.
 *
 * Measured on this 2-core machine (store CPU per row, 1000-row batches, the indexes of
 * drizzle/0003, json images, modes alternating): COPY binary ~18 µs a row, INSERT from
 * json_to_recordset ~32 µs; COPY in text format was 1-3 µs a row more than binary.
 */
export type WriteMode = "copy" | "insert";

const COPY_CHANGES = `copy changes (${COLUMNS.map((c) => `"${c}"`).join(", ")}) from stdin (format binary)`;

// One statement per batch: the rows travel as ONE json parameter (an array of objects) that
// json_to_recordset spreads into columns; row images are json already, so they are embedded as
// they are and keep their text (json_to_recordset hands a json column its exact text). The rows
// it inserts (not those it skips) are summarised in the same statement (lib/changes/segments.ts).
const INSERT_CHANGES: Omit<pg.QueryConfig, "values"> = {
  name: "retrace_insert_changes_v8",
  text: `
    with inserted as (
      insert into changes (${COLUMNS.map((c) => `"${c}"`).join(", ")})
      select $1::uuid, $2::text, $3::text, r.i, r.l, r.w, r.s, r.t, r.k, r.o, r.b, r.a, r.c, r.u, r.x, r.n, r.q,
             r.bn, r.an, r.ps, r.pt, r.bk
        from json_to_recordset($4::json)
          as r(i bigint, l pg_lsn, w timestamptz, s text, t text, k text, o operation, b json, a json,
               c text[], u text[], x jsonb, n int, q timestamptz, bn text[], an text[], ps text, pt text,
               bk text)
       order by r.l, r.n
      on conflict (source_id, commit_lsn, seq, bucket, committed_at) do nothing
      returning id, source_id, database, schema, "table", operation, committed_at, commit_lsn, changed_fields, context
    ), ${summarizeRowsSql("inserted")}
    select count(*)::int as inserted from inserted`,
};

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
      `"u":${jsonStrings(row.unavailableFields.length > 0 ? row.unavailableFields : null)},` +
      `"x":${row.context === NO_CONTEXT ? "null" : row.context},"n":${row.seq},"q":"${row.queuedAt}",` +
      `"bn":${jsonStrings(row.beforeJsonNullFields)},"an":${jsonStrings(row.afterJsonNullFields)},` +
      `"ps":${jsonString(row.partitionSchema)},"pt":${jsonString(row.partitionTable)},` +
      `"bk":${JSON.stringify(row.bucket)}}`;
  }
  return `[${parts.join(",")}]`;
}

/** A batch ready to go: built while the previous batch is still being written. */
type Payload = { mode: "copy"; data: Buffer } | { mode: "insert"; values: unknown[] };

function insertPayload(sourceId: string, rows: readonly ChangeRow[]): Payload {
  const first = rows[0] as ChangeRow;
  return { mode: "insert", values: [sourceId, first.environment, first.database, rowsDocument(rows)] };
}

/**
 * One store transaction that rows of any number of source transactions are written into in
 * batches, and that commits with the checkpoint of the last complete one (group commit). The
 * first batch opens it on a client checked out of the pool for its whole life; rows are visible
 * to nobody until the commit, and a store transaction that never commits leaves nothing behind.
 *
 * `send` lets the caller build the next batch while the store writes this one: it returns once at
 * most one batch is ahead of this one, so at most two are in flight: one being stored and, in
 * `copy` mode, the next one already on the wire behind it (CopyIn), so that the store goes from
 * one to the next without waiting for this process. A failed batch is thrown by a later `send`
 * or by `commit`; `commit` waits for every batch in flight, so nothing commits (and nothing can
 * be acknowledged) before every batch is stored. Not safe for concurrent calls: await each.
 */
export class StoreTransaction {
  private client: pg.PoolClient | null = null;
  /** Statements running on `client` (a COPY can be sent behind another). */
  private running = 0;
  /** COPYs handed to `client` and not finished: another may go on the wire behind them. */
  private copying = 0;
  private finished = false;
  /** send() calls that have not returned yet. */
  private sending = 0;
  /**
   * Batches sent and not yet stored, oldest first; each is written once the one before it is.
   * A failed one stays, so that every later send and the commit throw its error.
   */
  private readonly queue: Promise<void>[] = [];
  /** Made at the first COPY batch; keeps conversions that the next batch's rows may share. */
  private encoder: ChangesCopyEncoder | null = null;
  /** The COPY batches' rows, counted for the change summary written before the commit. */
  private readonly tally = new SegmentTally();
  /** The last change id drawn before this store transaction began (its rows' ids are all larger). */
  private lastIdBefore = "0";
  private markWritten: () => void = () => undefined;
  /**
   * Settles (never rejects) once every row sent is stored, before the checkpoint and COMMIT, or
   * once the transaction is over. The next store transaction of the source waits for it before
   * writing rows of its own (`after`): identity values are drawn as rows go in, and rows of two store
   * transactions going in at once would interleave them, while a source's ids must follow its
   * (commit_lsn, seq) order (lib/changes/list.ts reads a source by LSN on that).
   */
  readonly written = new Promise<void>((resolve) => {
    this.markWritten = resolve;
  });
  /** Rows inserted so far (in `insert` mode, rows already stored are skipped and not counted). */
  inserted = 0;

  /**
   * `after`: the previous store transaction's `written`, when this one opens while that one is
   * still being written: this one's rows wait for it (in the background; `send` still returns
   * as described above).
   */
  constructor(
    private readonly pool: pg.Pool,
    private readonly sourceId: string,
    private readonly mode: WriteMode = "copy",
    private readonly after: Promise<void> | null = null,
  ) {}

  /** Whether a batch has been written, i.e. a store transaction is open. */
  get opened(): boolean {
    return this.client !== null || this.queue.length > 0;
  }

  /**
   * Queues a batch and returns once at most one batch is ahead of it (a failed batch is thrown
   * here instead): see the class comment.
   */
  async send(rows: readonly ChangeRow[]): Promise<void> {
    this.sending++;
    try {
      // Built before waiting, so that it is ready the moment the batch ahead of it starts.
      const batch = rows.length > 0 ? this.payload(rows) : null;
      while (this.queue.length >= 2) await this.queue[0];
      if (this.finished) throw new Error("Store transaction already finished");
      if (!batch) return;
      const ahead = this.queue.at(-1);
      // Only behind a COPY already handed to the connection: sent while BEGIN still runs, it
      // would overtake the batch ahead (and its identity values).
      const write =
        ahead && this.client && this.copying > 0 && batch.mode === "copy"
          ? this.copyBehind(this.client, batch.data)
          : this.writeAfter(ahead ?? this.after, batch);
      this.queue.push(write);
      // Awaited by a later send or the commit; a failure meanwhile is not an unhandled one.
      write.then(
        () => this.queue.splice(this.queue.indexOf(write), 1),
        () => undefined,
      );
    } finally {
      this.sending--;
    }
  }

  /** Writes the batch once `ahead` (the batch before it, or the previous store transaction) is stored. */
  private async writeAfter(ahead: Promise<void> | null, batch: Payload): Promise<void> {
    if (ahead) await ahead;
    await this.run(async (client) => {
      const inserted =
        batch.mode === "insert"
          ? ((await client.query<{ inserted: number }>({ ...INSERT_CHANGES, values: batch.values })).rows[0]
              ?.inserted ?? 0)
          : await this.copy(client, batch.data);
      this.inserted += inserted;
    });
  }

  /** Hands a COPY to `client` (queued behind whatever runs on it); resolves with its row count. */
  private async copy(client: pg.PoolClient, data: Buffer, sendNow = false): Promise<number> {
    const copy = new CopyIn(COPY_CHANGES, data);
    if (sendNow) copy.sendNow(clientSocket(client));
    client.query(copy as unknown as pg.QueryConfig);
    this.copying++;
    try {
      return await copy.done;
    } finally {
      this.copying--;
    }
  }

  /**
   * A COPY of this store transaction is running on `client`: this one goes on the wire now,
   * behind it, so the store starts on it as soon as that one is done (copy-in.ts). If that one
   * fails, this one fails too (the store transaction is aborted).
   */
  private async copyBehind(client: pg.PoolClient, data: Buffer): Promise<void> {
    this.running++;
    try {
      const inserted = await this.copy(client, data, true);
      this.inserted += inserted;
    } catch (error) {
      await this.failed();
      throw error;
    } finally {
      this.running--;
    }
  }

  private payload(rows: readonly ChangeRow[]): Payload {
    if (this.mode === "insert") return insertPayload(this.sourceId, rows);
    this.encoder ??= new ChangesCopyEncoder(this.sourceId);
    this.tally.add(rows);
    return { mode: "copy", data: this.encoder.encode(rows) };
  }

  /** Waits for every batch sent; rethrows the first failure. */
  private async settle(): Promise<void> {
    while (this.queue.length > 0) await this.queue[0];
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
    this.markWritten();
    if (!this.client) {
      // Nothing was written: the checkpoint alone is one statement, no transaction needed.
      this.finished = true;
      await advanceCheckpoint(this.pool, this.sourceId, commitLsn, lastChangeAt);
      return { inserted: 0 };
    }
    await this.run(async (client) => {
      await this.tally.write(client, this.sourceId, this.lastIdBefore);
      await advanceCheckpoint(client, this.sourceId, commitLsn, lastChangeAt);
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
    this.markWritten();
    const client = this.client;
    if (!client) return;
    if (this.running > 0) {
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
    this.running++;
    try {
      if (!this.client) {
        const client = await this.pool.connect();
        if (this.finished) {
          // Aborted while the connection was being checked out (abort saw no client yet).
          client.release();
          throw new Error("Store transaction aborted");
        }
        this.client = client;
        // One round trip: BEGIN and where this transaction's ids will start (for the change summary).
        const answer: unknown = await client.query(`begin; ${LAST_ID_SQL}`);
        const lastId = Array.isArray(answer) ? (answer[1] as pg.QueryResult<{ last_id: string }>).rows[0] : undefined;
        this.lastIdBefore = lastId?.last_id ?? "0";
      }
      return await work(this.client);
    } catch (error) {
      await this.failed();
      throw error;
    } finally {
      this.running--;
    }
  }

  /** A failed statement aborts the store transaction: nothing of it can commit any more. */
  private async failed(): Promise<void> {
    this.finished = true;
    this.markWritten();
    await this.client?.query("rollback").catch(() => undefined);
    this.release(true);
  }

  private release(destroy: boolean): void {
    const client = this.client;
    this.client = null;
    client?.release(destroy);
  }
}
