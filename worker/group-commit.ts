import type pg from "pg";
import type { Logger } from "pino";
import { StoreTransaction, type WriteMode } from "../lib/changes/write";
import { rowBytes, type BuiltTransaction, type ChangeRow, type TransactionBatch } from "../lib/replication/change-row";
import type { SourceMetrics } from "./metrics";

/** When the rows of an open source transaction are written to the store (whichever comes first). */
export type BatchLimits = { maxRows: number; maxBytes: number };

/**
 * Not much smaller: besides the statements saved, a COPY of ~1000 rows cost the store ~20% more
 * CPU per row than one of 5000 (27.5 vs 23.3 µs, 1000-row source transactions; 20,000 no better
 * than 5000). COPY buffers up to 1000 tuples before each flush, each in a slot that pins the
 * table's tuple descriptor in the resource owner, and PostgreSQL 18's resource owner hashes that
 * same pointer 1000 times into one ever longer probe run: a statement's cost grows with the
 * square of its rows up to 1000, so per row it is worst at ~1000 and a fifth of that at 5000
 * (perf, 1000-row COPYs: ResourceOwnerAddToHash and ResourceOwnerForget ~9% of the backend).
 */
export const DEFAULT_BATCH_LIMITS: BatchLimits = { maxRows: 5_000, maxBytes: 4 * 1024 * 1024 };

/** Complete source transactions written (or waiting to be written) but not yet committed. */
export type Group = {
  transactions: number;
  lastCommitLsn: string;
  lastCommitEndLsn: string;
  lastChangeAt: string | null;
};

export type GroupCommitOptions = {
  store: pg.Pool;
  sourceId: string;
  /** How batches reach the store (lib/changes/write.ts); `copy` unless a duplicate was met. */
  writeMode?: WriteMode;
  limits: BatchLimits;
  metrics?: SourceMetrics;
  logger: Logger;
  /** Commit time of the last stored transaction with changes (null: none yet). */
  lastChangeAt: string | null;
  /** A group's store transaction committed; the group commit is over once this settles. */
  stored: (group: Group) => Promise<void>;
  /** A group commit failed: nothing more is written, and the session fails. */
  failed: (error: unknown) => void;
};

/**
 * Writes a source's transactions into store transactions, a GROUP of consecutive complete source
 * transactions per store transaction, which commits with the checkpoint (commit LSN) of the last
 * one (lib/changes/write.ts); only then is that transaction's end acknowledged (`stored`). A
 * group is all or nothing: a failure replays all of it from the stored checkpoint.
 *
 * - Without waiting: at most one group commit is in flight. A source transaction that completes
 *   while the store is idle is committed at once (low latency under light load); transactions
 *   that complete while a commit is in flight gather (`pending`, rows not yet sent) and are
 *   committed together as soon as it is done (throughput under heavy load).
 * - When a batch's worth gathers meanwhile, it is sent into the next store transaction on a
 *   second store connection, so the store writes it during the previous commit (at most two
 *   store transactions per session: one committing, one being filled).
 * - A source transaction larger than a batch is written batch by batch (`writeOpen`) into the
 *   store transaction being filled before its COMMIT arrives (with any complete transactions
 *   still pending in front of it); that store transaction then commits at its COMMIT.
 * - The caller waits only to send a batch while two batches of the same store transaction are
 *   still being written (StoreTransaction.send), so memory is bounded by a few batches, not by
 *   transaction or group size.
 */
export class GroupCommit {
  private readonly log: Logger;
  /** The store transaction being filled: complete transactions' rows, then maybe the open one's. */
  private transaction: StoreTransaction | null = null;
  /** Rows of complete, uncommitted source transactions not sent to the store yet. */
  private pending: ChangeRow[] = [];
  private pendingBytes = 0;
  /** The complete source transactions in `transaction` and `pending`. */
  private group: Group | null = null;
  /** Rows of the open source transaction were sent into `transaction`. */
  private openInStore = false;
  /** Rows are being handed to `transaction` (see fill). */
  private filling = false;
  /** The group commit in flight (at most one), and its store transaction. */
  private committing: Promise<void> | null = null;
  private committingTransaction: StoreTransaction | null = null;
  /** No commit starts by itself any more (draining or failed); commitComplete still starts them. */
  private halted = false;
  private failed = false;
  /** Commit time of the last stored source transaction with changes (null: none known). */
  lastStoredCommitAt: string | null;

  constructor(private readonly options: GroupCommitOptions) {
    this.log = options.logger;
    this.lastStoredCommitAt = options.lastChangeAt;
  }

  /** Something received is not committed yet: complete transactions gathering, a store transaction open. */
  get busy(): boolean {
    return this.group !== null || this.pending.length > 0 || this.transaction !== null || this.committing !== null;
  }

  /** Draining: a commit that settles starts no next one by itself. */
  halt(): void {
    this.halted = true;
  }

  /** The session failed: nothing more is written or committed. */
  fail(): void {
    this.failed = true;
    this.halted = true;
  }

  /**
   * Rows of a source transaction that has not committed yet (a batch of a large one): they go
   * into the store transaction being filled, behind the complete transactions still pending,
   * and become visible at its COMMIT. Returns once at most one batch is ahead of them.
   */
  async writeOpen(batch: TransactionBatch): Promise<void> {
    this.openInStore = true;
    await this.fill(batch.rows);
    this.log.debug({ lsn: batch.commitLsn, rows: batch.rows.length }, "batch sent");
  }

  /**
   * A source transaction is complete: it joins the group, which commits as soon as the store is
   * free. Returns a promise when the caller must wait (a batch's worth is being sent).
   */
  add(tx: BuiltTransaction): Promise<void> | undefined {
    for (const row of tx.rows) {
      this.pending.push(row);
      this.pendingBytes += rowBytes(row);
    }
    const group = (this.group ??= {
      transactions: 0,
      lastCommitLsn: tx.commitLsn,
      lastCommitEndLsn: tx.commitEndLsn,
      lastChangeAt: null,
    });
    group.transactions++;
    group.lastCommitLsn = tx.commitLsn;
    group.lastCommitEndLsn = tx.commitEndLsn;
    if (tx.rowCount > 0) group.lastChangeAt = tx.committedAt;
    this.openInStore = false;
    this.startCommit();
    // A batch's worth gathered while the store commits the previous group: it goes into the next
    // store transaction now, which commits when the previous one is done.
    const { maxRows, maxBytes } = this.options.limits;
    const full = this.pending.length >= maxRows || this.pendingBytes >= maxBytes;
    return full ? this.fill() : undefined;
  }

  /** Commits everything complete (not behind an open transaction's rows) and waits for it. */
  async commitComplete(): Promise<void> {
    for (;;) {
      if (this.failed) return;
      if (!this.committing) this.startCommit();
      const committing = this.committing;
      if (!committing) return;
      await committing;
    }
  }

  /**
   * Rolls back whatever did not commit (a commit still running after a drain deadline is cut
   * off: its connection is closed and the store rolls it back).
   */
  async close(): Promise<void> {
    this.halted = true;
    const open = [this.transaction, this.committingTransaction];
    this.transaction = null;
    this.committingTransaction = null;
    this.pending = [];
    await Promise.all(open.map((transaction) => transaction?.abort()));
  }

  /**
   * Sends the pending rows (and `more`) into the store transaction being filled, opening one if
   * needed. It may open while the previous group commits, on a second store connection, so that
   * the next rows stream into the store during that commit; it still commits after it
   * (startCommit). Its rows go in only once the previous group's are all in, so that the
   * source's ids follow its commit order (StoreTransaction's `after`); meanwhile the next batch
   * is decoded. A group commit that holds no connection of its own (checkpoint only) is waited
   * for first, so a session never waits for a connection while holding two.
   */
  private async fill(more: readonly ChangeRow[] = []): Promise<void> {
    if (this.committing && !this.committingTransaction?.opened) await this.committing;
    if (this.failed) return;
    this.transaction ??= this.newTransaction(this.committingTransaction?.written ?? null);
    const rows = this.pending.length === 0 ? more : more.length === 0 ? this.pending : this.pending.concat(more);
    this.pending = [];
    this.pendingBytes = 0;
    // Returns once at most one batch of this store transaction is ahead: back-pressure. Until
    // then the store transaction must not be committed (these rows, taken out of `pending`, are
    // not in it yet), so startCommit waits for `filling`; a commit that came due meanwhile starts
    // right after.
    this.filling = true;
    try {
      await this.transaction.send(rows);
    } finally {
      this.filling = false;
    }
    this.options.metrics?.batch();
    this.startCommit();
  }

  /**
   * Commits the group if the store is free and nothing of an open transaction is in its store
   * transaction; it runs in the background, and when it settles the next group is started.
   */
  private startCommit(): void {
    const group = this.group;
    if (this.committing || this.filling || !group || this.openInStore || this.failed) return;
    const transaction = this.transaction ?? this.newTransaction(null);
    const rows = this.pending;
    this.transaction = null;
    this.group = null;
    this.pending = [];
    this.pendingBytes = 0;
    this.committingTransaction = transaction;
    this.committing = this.commitGroup(transaction, rows, group).then(
      () => {
        this.committing = null;
        this.committingTransaction = null;
        if (!this.halted) this.startCommit();
      },
      (error: unknown) => {
        this.committing = null;
        this.committingTransaction = null;
        this.fail();
        this.options.failed(error);
      },
    );
  }

  /** Writes the group's last rows, advances the checkpoint, commits, then reports it stored. */
  private async commitGroup(transaction: StoreTransaction, rows: ChangeRow[], group: Group): Promise<void> {
    const metrics = this.options.metrics;
    if (rows.length > 0) {
      await transaction.send(rows);
      metrics?.batch();
    }
    const { inserted } = await transaction.commit(group.lastCommitLsn, group.lastChangeAt);
    if (group.lastChangeAt) this.lastStoredCommitAt = group.lastChangeAt;
    metrics?.changesWritten(inserted);
    metrics?.transactionsStored(group.transactions);
    this.log.debug({ lsn: group.lastCommitLsn, transactions: group.transactions, inserted }, "transactions stored");
    await this.options.stored(group);
  }

  private newTransaction(after: Promise<void> | null): StoreTransaction {
    const { store, sourceId, writeMode } = this.options;
    return new StoreTransaction(store, sourceId, writeMode, after);
  }
}
