import type pg from "pg";
import { LogicalReplicationService, type Pgoutput } from "pg-logical-replication";
import type { Logger } from "pino";
import { StoreTransaction } from "../lib/changes/write";
import type { Source } from "../lib/db/schema";
import { isBuiltinType, type ValueType } from "../lib/replication/decode";
import { relationKeyColumns } from "../lib/replication/keys";
import { compareLsn, libraryAckArgument, normalizeLsn } from "../lib/replication/lsn";
import { RawTextPgoutputPlugin, type StreamMessage } from "../lib/replication/plugin";
import { TransactionBuilder, type BuiltTransaction, type Notice, type TransactionBatch } from "../lib/replication/rows";
import { resolveType } from "../lib/replication/types";
import { clientConfig, openSourceClient } from "../lib/sources/connection";
import type { SourceMetrics } from "./metrics";
import { catalogTypes, keyIndexes, slotConfirmedLsn } from "./source-connection";
import { emitHeartbeat, HEARTBEAT_PREFIX, measureLag, recordLag } from "./source-health";

export type SessionSource = Pick<
  Source,
  "id" | "host" | "port" | "database" | "username" | "sslMode" | "environment" | "slotName" | "publicationName"
>;

/** When the rows of an open source transaction are written to the store (whichever comes first). */
export type BatchLimits = { maxRows: number; maxBytes: number };

export const DEFAULT_BATCH_LIMITS: BatchLimits = { maxRows: 1_000, maxBytes: 4 * 1024 * 1024 };

export type HealthOptions = {
  /** How often lag is measured and a status update is sent. */
  intervalMs: number;
  /** Whether each measurement also writes a heartbeat message into the source's WAL. */
  heartbeats: boolean;
};

export type SessionOptions = {
  source: SessionSource;
  password: string;
  /** Commit LSN of the last transaction stored for this source (null: none yet). */
  checkpointLsn: string | null;
  /** Commit time of the last stored transaction with changes (null: none yet); for lag. */
  lastChangeAt: string | null;
  store: pg.Pool;
  logger: Logger;
  batch?: BatchLimits;
  health?: HealthOptions;
  metrics?: SourceMetrics;
};

/** How much group commit may gather into one store transaction before committing it. */
const GROUP_LIMITS = { transactions: 500, rows: 20_000, ms: 100 };

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

const maxLsn = (a: string, b: string) => (compareLsn(a, b) >= 0 ? a : b);

/**
 * One replication connection to a source, from START_REPLICATION until it fails or is drained.
 *
 * Ingest contract, as implemented here:
 * - A source transaction is written into ONE store transaction (StoreTransaction) in batches of
 *   at most `batch.maxRows` rows or about `batch.maxBytes` of row JSON, the first batch opening
 *   it; at the source COMMIT the last batch and the checkpoint go in and the store transaction
 *   commits; only then is the commit acknowledged. So memory per transaction is bounded by a
 *   batch, not by the transaction. The data handler is awaited (flowControl): while a batch is
 *   being written the library keeps the socket paused, so the stream waits for the store. Two
 *   overlaps, each one store write deep: a batch's insert runs while the next batch is built
 *   (StoreTransaction.send), and a transaction's last batch + checkpoint + COMMIT run while the
 *   next transaction is decoded (storeBehind); the next store write waits for them.
 *   The library's auto-ack and ack timer are off.
 * - `confirmableLsn` is the position up to which everything the server sent is either stored or
 *   had nothing to store. It advances on stored commits (to the commit's end LSN), on
 *   non-transactional messages between transactions (the heartbeats this session writes; their
 *   LSN: everything decoded before them was sent before them, and so already handled), and on
 *   server keepalives when nothing is buffered, in flight or still queued inside the library (the
 *   keepalive's LSN is the server's send position: every transaction committed before it was
 *   already sent, and so already handled).
 * - Once anything fails, nothing more is handled or acknowledged: the service is stopped, an
 *   open store transaction is rolled back, and run() rejects; the caller restarts from the
 *   stored checkpoint and the server resends.
 * - Every `health.intervalMs` the slot's lag is measured and stored, a heartbeat is written to
 *   the source (worker/source-health.ts), and the confirmed position is reported again (which
 *   also keeps the walsender from timing out while a long store write keeps the socket paused).
 */
export class ReplicationSession {
  private readonly log: Logger;
  private service: LogicalReplicationService | null = null;
  private plugin: RawTextPgoutputPlugin | null = null;
  private catalog: pg.Client | null = null;
  private readonly builder: TransactionBuilder;
  private readonly keys = new Map<number, string[]>();
  /** Non-built-in column types by (unsigned) type OID, resolved from the source catalog. */
  private readonly types = new Map<number, ValueType>();
  private readonly warnedUnavailable = new Set<string>();
  private readonly batchLimits: BatchLimits;

  private handledCount = 0;
  private inflight: Promise<void> | null = null;
  /** The store transaction of the source transaction being received, once its first batch is written. */
  private storeTransaction: StoreTransaction | null = null;
  /** The source transactions in the open store transaction, for group commit. */
  private group = { transactions: 0, rows: 0, startedAt: 0, lastCommitEndLsn: "", lastChangeAt: null as string | null };
  private lastStoredCommitAt: string | null;
  private healthTimer: NodeJS.Timeout | null = null;
  private measuring = false;
  private previousWalLsn: string | null = null;
  private warnedHeartbeat = false;
  private confirmableLsn: string | null = null;
  private ackedLsn: string | null = null;
  private halted = false;
  private failure: Error | null = null;
  private settle: { resolve: () => void; reject: (error: Error) => void } | null = null;
  /** True once this session stored a transaction or confirmed a keepalive or heartbeat position. */
  progressed = false;

  constructor(private readonly options: SessionOptions) {
    this.log = options.logger;
    this.batchLimits = options.batch ?? DEFAULT_BATCH_LIMITS;
    this.lastStoredCommitAt = options.lastChangeAt;
    this.builder = new TransactionBuilder(
      { environment: options.source.environment, database: options.source.database },
      { keys: (oid) => this.keys.get(oid), types: (oid) => this.types.get(oid >>> 0) },
    );
  }

  /** Streams until drain() (resolves) or a failure (rejects). */
  async run(): Promise<void> {
    const { source, password } = this.options;
    const finished = new Promise<void>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // A failure can settle it before it is awaited; that is not an unhandled rejection.
    finished.catch(() => undefined);
    try {
      const connection = { ...source, password };
      const { client, ssl } = await openSourceClient(connection, {
        applicationName: "retrace-worker-catalog",
        onError: (error) => this.fail(error),
      });
      this.catalog = client;
      // Acknowledging the slot's own confirmed position is a no-op, so it is the safe answer
      // to a keepalive that arrives before anything is stored.
      this.confirmableLsn = normalizeLsn(await slotConfirmedLsn(client, source.slotName));
      if (this.halted) return;

      const service = new LogicalReplicationService(clientConfig(connection, ssl, "retrace-worker"), {
        acknowledge: { auto: false, timeoutSeconds: 0 },
        flowControl: { enabled: true },
      });
      const plugin = new RawTextPgoutputPlugin({
        protoVersion: 2,
        publicationNames: [source.publicationName],
        messages: true,
      });
      this.service = service;
      this.plugin = plugin;
      service.on("data", (_lsn: string, message: StreamMessage) => this.handle(message));
      service.on("heartbeat", (lsn: string, _time: number, shouldRespond: boolean) => this.keepalive(lsn, shouldRespond));
      service.on("error", (error: Error) => this.fail(error));
      service.on("start", () => this.started());

      // Never subscribe without an LSN: the library would resume from the last *received*
      // position. 0/0 lets the server start at the slot's confirmed position.
      const startLsn = this.options.checkpointLsn ?? "0/0";
      this.log.info({ lsn: startLsn, slot: source.slotName }, "starting replication");
      service.subscribe(plugin, source.slotName, startLsn).then(
        () => (this.halted ? this.settle?.resolve() : this.fail(new Error("Replication stream ended"))),
        (error: unknown) => this.fail(asError(error)),
      );
      await finished;
    } catch (error) {
      this.fail(asError(error));
      await finished.catch(() => undefined);
    } finally {
      await this.close();
    }
    if (this.failure) throw this.failure;
  }

  /** Graceful stop: let the in-flight store write and its acknowledgement finish (bounded). */
  async drain(deadlineMs: number): Promise<void> {
    this.halted = true;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, deadlineMs);
    });
    const finishStoreWork = async () => {
      await this.inflight?.catch(() => undefined);
      // Complete source transactions gathered for a group commit: commit them rather than
      // reading them again at the next start.
      if (!this.failure && !this.builder.isOpen && this.storeTransaction) await this.commitGroup().catch(() => undefined);
    };
    await Promise.race([finishStoreWork(), deadline]);
    clearTimeout(timer);
    this.settle?.resolve();
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.halted = true;
    this.settle?.reject(error);
  }

  private async close(): Promise<void> {
    this.halted = true;
    if (this.healthTimer) clearInterval(this.healthTimer);
    this.healthTimer = null;
    const service = this.service;
    this.service = null;
    if (service) {
      await service.stop().catch(() => undefined);
      service.removeAllListeners();
    }
    // A source transaction that did not reach its commit leaves nothing in the store.
    const open = this.storeTransaction;
    this.storeTransaction = null;
    await open?.abort();
    await this.catalog?.end().catch(() => undefined);
    this.catalog = null;
  }

  private started(): void {
    this.log.info("replication started");
    const health = this.options.health;
    if (health && !this.healthTimer) {
      this.healthTimer = setInterval(() => void this.checkHealth(), health.intervalMs);
      void this.checkHealth();
    }
    this.options.store
      .query("update sources set status = 'streaming', last_error = null, updated_at = now() where id = $1 and status in ('pending', 'error')", [
        this.options.source.id,
      ])
      .catch((error: unknown) => this.log.warn({ err: asError(error) }, "could not record streaming status"));
  }

  private async handle(message: StreamMessage): Promise<void> {
    if (this.halted) return;
    try {
      switch (message.tag) {
        case "parse-error":
          throw message.error;
        case "relation":
          await this.loadRelation(message);
          break;
        case "begin":
          this.builder.begin(message);
          break;
        case "message":
          if (!message.transactional) {
            await this.safePoint(message);
            break;
          }
          this.builder.add(message);
          break;
        case "insert":
        case "update":
        case "delete":
        case "truncate":
          this.builder.add(message);
          if (this.builder.pendingRows >= this.batchLimits.maxRows || this.builder.pendingBytes >= this.batchLimits.maxBytes) {
            await this.settleStore();
            await this.track(this.writeBatch(this.builder.takeBatch()));
          }
          break;
        case "commit": {
          const tx = this.builder.commit(message);
          // Messages the library has already received after this commit: another transaction
          // follows at once, so this one may share its store commit (group commit).
          const more = (this.plugin?.parsedCount ?? 0) > this.handledCount + 1;
          // One store write at a time, in order: the previous transaction's commit first.
          await this.settleStore();
          this.storeBehind(this.store(tx, more));
          break;
        }
        case "type":
        case "origin":
          break;
      }
      this.handledCount++;
    } catch (error) {
      this.fail(asError(error));
    }
  }

  /** Store writes are tracked so that drain() can let the one in progress finish. */
  private async track(write: Promise<void>): Promise<void> {
    this.inflight = write;
    try {
      await write;
    } finally {
      this.inflight = null;
    }
  }

  /**
   * A source transaction's last batch, checkpoint and store COMMIT (and then its acknowledgement)
   * run while the next transaction is decoded: the handler does not wait for them. The next store
   * write waits for them first (settleStore), so there is one store write at a time, transactions
   * commit in order, and at most one transaction's last batch plus one batch are in memory. Until
   * it is done it is `inflight` (keepalives confirm nothing new, drain() waits for it); a failure
   * fails the session.
   */
  private storeBehind(write: Promise<void>): void {
    const tracked: Promise<void> = write.finally(() => {
      if (this.inflight === tracked) this.inflight = null;
    });
    this.inflight = tracked;
    tracked.catch((error: unknown) => this.fail(asError(error)));
  }

  private async settleStore(): Promise<void> {
    const inflight = this.inflight;
    if (inflight) await inflight;
  }

  /**
   * A non-transactional message (a heartbeat, or any other) arrives between transactions, in WAL
   * order: every transaction committed before it has been handled, so its LSN may be confirmed.
   */
  private async safePoint(message: Pgoutput.MessageMessage): Promise<void> {
    if (message.prefix === HEARTBEAT_PREFIX) this.log.trace({ lsn: message.messageLsn }, "heartbeat received");
    if (!this.builder.isOpen && this.storeTransaction) {
      // A group waiting for more transactions: the stream has moved past them, commit it now.
      await this.settleStore();
      if (!this.builder.isOpen && this.storeTransaction) await this.commitGroup();
    }
    if (!message.messageLsn || this.builder.isOpen || this.storeTransaction) return;
    this.progressed = true;
    await this.confirm(normalizeLsn(message.messageLsn));
  }

  /**
   * What the rows of a relation need beyond the relation message, refreshed on every relation
   * message (the server sends one before a relation's first change in a session and again after
   * DDL on it). Runs before the changes that follow the message are handled.
   *
   * - Key columns: from the message's own key flags where they say what the key was when the
   *   change was made (REPLICA IDENTITY DEFAULT or USING INDEX), else (FULL, NOTHING) from the
   *   catalog NOW; see lib/replication/keys.ts for what that means for old changes.
   * - Column types that are not built-in: resolved in the catalog NOW (a domain to its base
   *   type, an array to its element type and delimiter). What a type OID stands for does not
   *   change while the type exists; a type dropped since the change decodes as text.
   */
  private async loadRelation(relation: Pgoutput.MessageRelation): Promise<void> {
    const catalog = this.catalog;
    if (!catalog) throw new Error("Catalog connection is closed");
    this.keys.set(relation.relationOid, relationKeyColumns(relation, await keyIndexes(catalog, relation.relationOid)));
    const typeOids = [...new Set(relation.columns.map((column) => column.typeOid >>> 0))].filter((oid) => !isBuiltinType(oid));
    if (typeOids.length === 0) return;
    const rows = await catalogTypes(catalog, typeOids);
    for (const oid of typeOids) this.types.set(oid, resolveType(oid, rows));
  }

  private report(notices: readonly Notice[], log: Logger, transactionId: string): void {
    for (const notice of notices) {
      if (notice.kind === "context-ignored") {
        log.warn({ xid: transactionId, reason: notice.reason }, "context message ignored");
      } else {
        const table = `${notice.schema}.${notice.table}`;
        if (!this.warnedUnavailable.has(table)) {
          this.warnedUnavailable.add(table);
          log.warn({ table, columns: notice.columns }, "unchanged TOAST values without an old tuple are left out (set REPLICA IDENTITY FULL)");
        }
      }
    }
  }

  private openStoreTransaction(batch: TransactionBatch): StoreTransaction {
    const open = this.storeTransaction;
    if (open) {
      if (open.commitLsn !== batch.commitLsn) open.join(batch.commitLsn, batch.committedAt);
      return open;
    }
    this.group = { transactions: 0, rows: 0, startedAt: Date.now(), lastCommitEndLsn: "", lastChangeAt: null };
    this.storeTransaction = new StoreTransaction(this.options.store, this.options.source.id, batch.commitLsn, batch.committedAt);
    return this.storeTransaction;
  }

  /** Writes rows of a source transaction that has not committed yet; visible only at its commit. */
  private async writeBatch(batch: TransactionBatch): Promise<void> {
    const log = this.log.child({ lsn: batch.commitLsn });
    this.report(batch.notices, log, batch.transactionId);
    // Returns once the previous batch is stored: this one is inserted while the next is built.
    await this.openStoreTransaction(batch).send(batch.rows);
    this.options.metrics?.batch();
    log.debug({ rows: batch.rows.length }, "batch sent");
  }

  /**
   * Writes a committed source transaction. Group commit: while more of the stream is already
   * waiting in the library (`more`) and the group is small and young, the store transaction stays
   * open for the next source transaction; otherwise it commits — checkpoint at the last source
   * commit of the group — and only then is that commit acknowledged. A group is all or nothing,
   * so a failure replays all of it from the stored checkpoint.
   */
  private async store(tx: BuiltTransaction, more: boolean): Promise<void> {
    const log = this.log.child({ lsn: tx.commitLsn });
    this.report(tx.notices, log, tx.transactionId);
    const storeTransaction = this.openStoreTransaction(tx);
    if (tx.rows.length > 0) {
      await storeTransaction.write(tx.rows);
      this.options.metrics?.batch();
    }
    this.group.transactions++;
    this.group.rows += tx.rowCount;
    this.group.lastCommitEndLsn = tx.commitEndLsn;
    if (tx.rowCount > 0) this.group.lastChangeAt = tx.committedAt;
    this.options.metrics?.transaction();
    const withinLimits =
      this.group.transactions < GROUP_LIMITS.transactions &&
      this.group.rows < GROUP_LIMITS.rows &&
      Date.now() - this.group.startedAt < GROUP_LIMITS.ms;
    if (more && withinLimits && !this.halted) {
      log.trace({ rows: tx.rowCount }, "transaction joins the next store commit");
      return;
    }
    await this.commitGroup();
  }

  /** Commits the open store transaction (a group of source transactions), then acknowledges. */
  private async commitGroup(): Promise<void> {
    const storeTransaction = this.storeTransaction;
    if (!storeTransaction) return;
    const { transactions, lastCommitEndLsn, lastChangeAt } = this.group;
    const { inserted } = await storeTransaction.commit();
    this.storeTransaction = null;
    if (lastChangeAt) this.lastStoredCommitAt = lastChangeAt;
    this.options.metrics?.changesWritten(inserted);
    this.log.debug({ lsn: storeTransaction.commitLsn, transactions, inserted }, "transactions stored");
    this.progressed = true;
    await this.confirm(lastCommitEndLsn);
  }

  /**
   * Measures and stores the lag, writes a heartbeat, and reports the confirmed position again.
   * Failures here are logged, not fatal: the stream itself is what matters, and a broken
   * connection fails it anyway.
   */
  private async checkHealth(): Promise<void> {
    const catalog = this.catalog;
    if (this.measuring || this.halted || !catalog) return;
    this.measuring = true;
    const { source, store, health } = this.options;
    try {
      const lag = await measureLag(catalog, source.slotName, {
        openCommittedAt: this.builder.openCommittedAt,
        lastStoredCommitAt: this.lastStoredCommitAt,
        previousWalLsn: this.previousWalLsn,
      });
      this.previousWalLsn = lag.walLsn;
      this.options.metrics?.lag(lag.bytes, lag.seconds);
      this.log.debug({ lagBytes: lag.bytes, lagSeconds: lag.seconds, lsn: lag.walLsn }, "lag measured");
      await recordLag(store, source.id, lag);
      // A standby cannot write WAL; its keepalives still carry the replay position.
      if (health?.heartbeats && !lag.standby && !this.halted) await this.heartbeat(catalog);
      await this.confirm(null);
    } catch (error) {
      if (!this.halted) this.log.warn({ err: { message: asError(error).message } }, "lag measurement failed");
    } finally {
      this.measuring = false;
    }
  }

  private async heartbeat(catalog: pg.Client): Promise<void> {
    try {
      const lsn = await emitHeartbeat(catalog);
      this.log.trace({ lsn }, "heartbeat written");
    } catch (error) {
      // e.g. EXECUTE on pg_logical_emit_message revoked: keepalives still advance the slot.
      if (!this.warnedHeartbeat) {
        this.warnedHeartbeat = true;
        this.log.warn({ err: { message: asError(error).message } }, "could not write a heartbeat to the source");
      }
    }
  }

  private keepalive(lsn: string, shouldRespond: boolean): void {
    if (this.failure || !this.plugin) return;
    const everythingHandled =
      !this.halted &&
      !this.builder.isOpen &&
      this.inflight === null &&
      this.storeTransaction === null &&
      this.plugin.parsedCount === this.handledCount;
    const serverLsn = normalizeLsn(lsn);
    if (everythingHandled && this.confirmableLsn && compareLsn(serverLsn, this.confirmableLsn) > 0) {
      this.confirmableLsn = serverLsn;
      this.progressed = true;
    }
    const advanced = this.confirmableLsn !== null && this.ackedLsn !== this.confirmableLsn;
    if (advanced || shouldRespond) {
      this.confirm(null).catch((error: unknown) => this.fail(asError(error)));
    }
  }

  /** Reports `confirmableLsn` (advanced to `handledUpTo` first) as flushed to the server. */
  private async confirm(handledUpTo: string | null): Promise<void> {
    if (handledUpTo) this.confirmableLsn = this.confirmableLsn ? maxLsn(this.confirmableLsn, handledUpTo) : handledUpTo;
    const lsn = this.confirmableLsn;
    const service = this.service;
    if (!lsn || !service || this.failure) return;
    const argument = libraryAckArgument(lsn);
    if (!argument) return;
    if (await service.acknowledge(argument)) this.ackedLsn = lsn;
  }
}
