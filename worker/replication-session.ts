import type pg from "pg";
import { LogicalReplicationService, type Pgoutput } from "pg-logical-replication";
import type { Logger } from "pino";
import type { WriteMode } from "../lib/changes/write";
import type { Source } from "../lib/db/schema";
import { libraryAcknowledgeArgument } from "../lib/replication/lsn";
import { RawTextPgoutputPlugin, type StreamMessage } from "../lib/replication/plugin";
import { TransactionBuilder, type BuiltTransaction, type TransactionBatch } from "../lib/replication/rows";
import { clientConfig, openSourceClient } from "../lib/sources/connection";
import { markStreaming } from "../lib/sources/status";
import { Acknowledgement } from "./acknowledgement";
import { DEFAULT_BATCH_LIMITS, GroupCommit, type BatchLimits, type Group } from "./group-commit";
import { MessagePump } from "./message-pump";
import type { SourceMetrics } from "./metrics";
import { NoticeLog } from "./notices";
import { CatalogCache, slotConfirmedLsn } from "./source-catalog";
import { HEARTBEAT_PREFIX, HealthLoop, type HealthOptions } from "./source-health";

export type SessionSource = Pick<
  Source,
  "id" | "host" | "port" | "database" | "username" | "sslMode" | "environment" | "slotName" | "publicationName"
>;

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
  /** How batches reach the store (lib/changes/write.ts); `copy` unless a duplicate was met. */
  writeMode?: WriteMode;
};

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * One replication connection to a source, from START_REPLICATION until it fails or is drained.
 *
 * Ingest contract, as implemented here:
 * - Rows are written to the store in batches of at most `batch.maxRows` rows or about
 *   `batch.maxBytes` of row JSON, a group of source transactions per store transaction
 *   (worker/group-commit.ts). Messages are handled as they are read; one that has to wait (for the
 *   store or the catalog) pauses the socket until it and the messages read behind it are handled
 *   (`receive`).
 * - Replay: the server resends from the stored checkpoint, and the builder builds no rows for a
 *   transaction at or below it (lib/replication/rows.ts), so COPY never meets a duplicate. The unique index on
 *   (source_id, commit_lsn, seq) still guards the store: if a duplicate is met anyway, the
 *   session fails and the next one writes with INSERT … ON CONFLICT DO NOTHING (source-stream.ts).
 * - The library's automatic acknowledgements and their timer are off. `Acknowledgement` (worker/acknowledgement.ts)
 *   says up to where the slot may be acknowledged, and why; `acknowledge` sends that position.
 * - Once anything fails, nothing more is handled or acknowledged: the service is stopped, open
 *   store transactions are rolled back, and run() rejects; the caller restarts from the stored
 *   checkpoint and the server resends.
 * - Every `health.intervalMs` the slot's lag is measured and stored, a heartbeat is written to
 *   the source (worker/source-health.ts), and the acknowledged position is reported again (which
 *   also keeps the walsender from timing out while a long store write keeps the socket paused).
 */
export class ReplicationSession {
  private readonly log: Logger;
  private service: LogicalReplicationService | null = null;
  private plugin: RawTextPgoutputPlugin | null = null;
  private catalog: pg.Client | null = null;
  private readonly builder: TransactionBuilder;
  private readonly relations = new CatalogCache();
  private readonly notices: NoticeLog;
  private readonly batchLimits: BatchLimits;
  private readonly groupCommit: GroupCommit;

  private pump: MessagePump | null = null;
  private health: HealthLoop | null = null;
  private readonly acknowledgement = new Acknowledgement();
  private halted = false;
  private failure: Error | null = null;
  private settle: { resolve: () => void; reject: (error: Error) => void } | null = null;

  constructor(private readonly options: SessionOptions) {
    this.log = options.logger;
    this.notices = new NoticeLog(this.log);
    this.batchLimits = options.batch ?? DEFAULT_BATCH_LIMITS;
    this.builder = new TransactionBuilder(
      { environment: options.source.environment, database: options.source.database },
      this.relations.lookups,
    );
    this.builder.skipStoredUpTo(options.checkpointLsn);
    this.groupCommit = new GroupCommit({
      store: options.store,
      sourceId: options.source.id,
      writeMode: options.writeMode,
      limits: this.batchLimits,
      metrics: options.metrics,
      logger: this.log,
      lastChangeAt: options.lastChangeAt,
      stored: (group) => this.stored(group),
      failed: (error) => this.fail(error),
    });
  }

  /** True once this session stored a transaction or acknowledged a keepalive or heartbeat position. */
  get progressed(): boolean {
    return this.acknowledgement.progressed;
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
      this.acknowledgement.slotPosition(await slotConfirmedLsn(client, source.slotName));
      if (this.halted) return;
      if (this.options.health) {
        this.health = new HealthLoop({
          ...this.options.health,
          catalog: client,
          store: this.options.store,
          sourceId: source.id,
          slotName: source.slotName,
          metrics: this.options.metrics,
          logger: this.log,
          commitTimes: () => ({
            openCommittedAt: this.builder.openCommittedAt,
            lastStoredCommitAt: this.groupCommit.lastStoredCommitAt,
          }),
          acknowledge: () => this.acknowledge(),
        });
      }

      const service = new LogicalReplicationService(clientConfig(connection, ssl, "retrace-worker"), {
        acknowledge: { auto: false, timeoutSeconds: 0 },
        // Off: `receive` pauses the socket itself, and only when a message has to wait.
        flowControl: { enabled: false },
      });
      const plugin = new RawTextPgoutputPlugin({
        protoVersion: 2,
        publicationNames: [source.publicationName],
        messages: true,
      });
      this.service = service;
      this.plugin = plugin;
      const pump = new MessagePump(
        { dispatch: (message) => this.dispatch(message), fail: (error) => this.fail(error) },
        plugin,
      );
      this.pump = pump;
      service.on("data", (_lsn: string, message: StreamMessage) => pump.receive(message));
      service.on("heartbeat", (lsn: string, _time: number, shouldRespond: boolean) =>
        this.keepalive(lsn, shouldRespond),
      );
      service.on("error", (error: Error) => this.fail(error));
      service.on("start", () => this.started());

      // Never subscribe without an LSN: the library would resume from the last *received*
      // position. 0/0 lets the server start at the slot's confirmed position.
      const startLsn = this.options.checkpointLsn ?? "0/0";
      this.log.info({ lsn: startLsn, slot: source.slotName }, "starting replication");
      service.subscribe(plugin, source.slotName, startLsn).then(
        () => (this.halted ? this.settle?.resolve() : this.fail(new Error("Replication stream ended"))),
        (error: unknown) => this.fail(error),
      );
      await finished;
    } catch (error) {
      this.fail(error);
      await finished.catch(() => undefined);
    } finally {
      await this.close();
    }
    if (this.failure) throw this.failure;
  }

  /** Graceful stop: commit what is complete and let its acknowledgement finish (bounded). */
  async drain(deadlineMs: number): Promise<void> {
    this.halt();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, deadlineMs);
    });
    // Complete source transactions still gathering: commit them rather than reading them again
    // at the next start (a group behind an open transaction's rows cannot commit; it is replayed).
    await Promise.race([this.groupCommit.commitComplete().catch(() => undefined), deadline]);
    clearTimeout(timer);
    this.settle?.resolve();
  }

  private fail(error: unknown): void {
    if (this.failure) return;
    const failure = asError(error);
    this.failure = failure;
    this.groupCommit.fail();
    this.halt();
    this.settle?.reject(failure);
  }

  /** Nothing more is handled, and no group commit starts by itself. */
  private halt(): void {
    this.halted = true;
    this.groupCommit.halt();
    this.health?.stop();
    this.pump?.stop();
  }

  private async close(): Promise<void> {
    this.halt();
    const service = this.service;
    this.service = null;
    if (service) {
      await service.stop().catch(() => undefined);
      service.removeAllListeners();
    }
    // Whatever did not commit leaves nothing in the store.
    await this.groupCommit.close();
    await this.catalog?.end().catch(() => undefined);
    this.catalog = null;
  }

  private started(): void {
    this.log.info("replication started");
    this.health?.start();
    markStreaming(this.options.store, this.options.source.id).catch((error: unknown) =>
      this.log.warn({ err: asError(error) }, "could not record streaming status"),
    );
  }

  private dispatch(message: StreamMessage): Promise<void> | undefined {
    switch (message.tag) {
      case "parse-error":
        throw message.error;
      case "relation":
        return this.loadRelation(message);
      case "begin":
        this.builder.begin(message);
        return undefined;
      case "message":
        if (!message.transactional) return this.safePoint(message);
        this.builder.add(message);
        return undefined;
      case "insert":
      case "update":
      case "delete":
      case "truncate":
        this.builder.add(message);
        if (
          this.builder.pendingRows >= this.batchLimits.maxRows ||
          this.builder.pendingBytes >= this.batchLimits.maxBytes
        ) {
          return this.writeOpen(this.builder.takeBatch());
        }
        return undefined;
      case "commit":
        return this.complete(this.builder.commit(message));
      case "type":
      case "origin":
        return undefined;
    }
  }

  /**
   * A non-transactional message (a heartbeat, or any other) arrives between transactions, in WAL
   * order: every transaction committed before it has been handled, so once they are committed its
   * LSN may be acknowledged.
   */
  private async safePoint(message: Pgoutput.MessageMessage): Promise<void> {
    if (message.prefix === HEARTBEAT_PREFIX) this.log.trace({ lsn: message.messageLsn }, "heartbeat received");
    if (this.builder.isOpen) return;
    await this.groupCommit.commitComplete();
    if (!message.messageLsn) return;
    const outstanding = { transactionOpen: this.builder.isOpen, storePending: this.groupCommit.busy };
    if (this.acknowledgement.betweenTransactions(message.messageLsn, outstanding)) await this.acknowledge();
  }

  private loadRelation(relation: Pgoutput.MessageRelation): Promise<void> {
    const catalog = this.catalog;
    if (!catalog) throw new Error("Catalog connection is closed");
    return this.relations.load(catalog, relation);
  }

  /** A source transaction is complete: it joins the group, which commits as soon as the store is free. */
  private complete(tx: BuiltTransaction): Promise<void> | undefined {
    this.notices.report(tx.notices, tx.commitLsn, tx.transactionId);
    return this.groupCommit.add(tx);
  }

  private writeOpen(batch: TransactionBatch): Promise<void> {
    this.notices.report(batch.notices, batch.commitLsn, batch.transactionId);
    return this.groupCommit.writeOpen(batch);
  }

  /** Acknowledges a group once its store transaction has committed. */
  private async stored(group: Group): Promise<void> {
    this.acknowledgement.stored(group.lastCommitEndLsn);
    await this.acknowledge();
  }

  private keepalive(lsn: string, shouldRespond: boolean): void {
    const plugin = this.plugin;
    const pump = this.pump;
    if (this.failure || !plugin || !pump) return;
    const acknowledgement = this.acknowledgement;
    acknowledgement.keepalive(lsn, {
      transactionOpen: this.builder.isOpen,
      storePending: this.groupCommit.busy,
      parsed: plugin.parsedCount,
      handled: pump.handled,
      halted: this.halted,
    });
    if (acknowledgement.isNew || shouldRespond) {
      this.acknowledge().catch((error: unknown) => this.fail(error));
    }
  }

  /** Reports the position `acknowledgement` allows (worker/acknowledgement.ts says why) as flushed. */
  private async acknowledge(): Promise<void> {
    const lsn = this.acknowledgement.lsn;
    const service = this.service;
    if (!lsn || !service || this.failure) return;
    const argument = libraryAcknowledgeArgument(lsn);
    if (argument && (await service.acknowledge(argument))) this.acknowledgement.acknowledged(lsn);
  }
}
