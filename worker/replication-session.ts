import type pg from "pg";
import type { Pgoutput } from "pg-logical-replication";
import type { Logger } from "pino";
import type { WriteMode } from "../lib/changes/write";
import { storeDb } from "../lib/db/client";
import type { Source } from "../lib/db/schema";
import type { StreamMessage } from "../lib/replication/plugin";
import { TransactionBuilder } from "../lib/replication/rows";
import { ColumnRuleSet, storedColumnRules } from "../lib/sources/column-rules";
import { openSourceClient } from "../lib/sources/connection";
import { ensurePublicationOptions } from "../lib/sources/publication";
import { markRecovered, markStreaming } from "../lib/sources/status";
import { Acknowledgement } from "./acknowledgement";
import { DEFAULT_BATCH_LIMITS, GroupCommit, type BatchLimits } from "./group-commit";
import type { SourceMetrics } from "./metrics";
import { NoticeLog } from "./notices";
import { ReplicationStream } from "./replication-stream";
import { CatalogCache, slotConfirmedLsn } from "./source-catalog";
import { HEARTBEAT_PREFIX, HealthLoop, type HealthOptions } from "./source-health";

export type SessionSource = Pick<
  Source,
  | "id"
  | "host"
  | "port"
  | "database"
  | "username"
  | "sslMode"
  | "sslRootCert"
  | "environment"
  | "slotName"
  | "publicationName"
  | "columnRules"
  | "trackNewTables"
> & {
  /** Tables ('schema.table') with a retention rule of their own (lib/retention/rules.ts): rows get their bucket. */
  bucketTables?: readonly string[];
};

export type SessionOptions = {
  source: SessionSource;
  password: string;
  /** Masked columns' values are stored as this keyed hash (lib/crypto/mask.ts). */
  mask: (text: string) => string;
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
 * It wires parts that each do one thing:
 * - ReplicationStream (replication-stream.ts) is the slot's stream, with the library set up safely;
 *   its MessagePump (message-pump.ts) hands each message to `dispatch` as it is read, pausing the
 *   socket while one has to wait;
 * - TransactionBuilder (lib/replication/rows.ts) turns a source transaction into rows, with keys
 *   and types from CatalogCache (source-catalog.ts), and builds none for a transaction at or below
 *   the stored checkpoint: the server resends those after a restart, and they are stored already;
 * - GroupCommit (group-commit.ts) writes the rows in batches into store transactions that commit
 *   groups of source transactions with their checkpoint;
 * - Acknowledgement (acknowledgement.ts) says up to where the slot may be acknowledged, and why;
 *   `acknowledge` sends that, and nothing else is ever acknowledged;
 * - HealthLoop (source-health.ts) measures lag, writes heartbeats, and acknowledges again.
 * Once anything fails, nothing more is handled or acknowledged: the stream is stopped, open store
 * transactions are rolled back, and run() rejects; the caller (source-stream.ts) starts a new
 * session from the stored checkpoint and the server resends.
 */
export class ReplicationSession {
  private readonly log: Logger;
  private readonly limits: BatchLimits;
  private readonly relations: CatalogCache;
  private readonly builder: TransactionBuilder;
  private readonly notices: NoticeLog;
  private readonly groupCommit: GroupCommit;
  private readonly acknowledgement = new Acknowledgement();
  private catalog: pg.Client | null = null;
  private stream: ReplicationStream | null = null;
  private health: HealthLoop | null = null;
  private halted = false;
  private recovered = false;
  private failure: Error | null = null;
  private settle: { resolve: () => void; reject: (error: Error) => void } | null = null;

  constructor(private readonly options: SessionOptions) {
    const { source, store, metrics } = options;
    this.log = options.logger;
    this.limits = options.batch ?? DEFAULT_BATCH_LIMITS;
    this.relations = new CatalogCache({
      store: storeDb(store),
      sourceId: source.id,
      publicationName: source.publicationName,
      trackNewTables: source.trackNewTables,
    });
    const rules = new ColumnRuleSet(storedColumnRules(source.columnRules));
    this.builder = new TransactionBuilder(
      {
        environment: source.environment,
        database: source.database,
        // No rules: no plan carries any, and no row does any work for them.
        columnRules: rules.empty ? null : { set: rules, mask: options.mask },
        bucketTables: source.bucketTables?.length ? new Set(source.bucketTables) : null,
      },
      this.relations.lookups,
    );
    this.builder.skipStoredUpTo(options.checkpointLsn);
    this.notices = new NoticeLog(this.log);
    this.groupCommit = new GroupCommit({
      store,
      sourceId: source.id,
      writeMode: options.writeMode,
      limits: this.limits,
      metrics,
      logger: this.log,
      lastChangeAt: options.lastChangeAt,
      stored: (group) => this.stored(group.lastCommitEndLsn),
      failed: (error) => this.fail(error),
    });
  }

  /** True once this session stored a transaction or acknowledged a keepalive or heartbeat position. */
  get progressed(): boolean {
    return this.acknowledgement.progressed;
  }

  /** Streams until drain() (resolves) or a failure (rejects). */
  async run(): Promise<void> {
    const finished = new Promise<void>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // A failure can settle it before it is awaited; that is not an unhandled rejection.
    finished.catch(() => undefined);
    try {
      await this.start();
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

  private async start(): Promise<void> {
    const { source, password, store, metrics } = this.options;
    const connection = { ...source, password };
    const { client, ssl } = await openSourceClient(connection, {
      applicationName: "retrace-worker-catalog",
      onError: (error) => this.fail(error),
    });
    this.catalog = client;
    this.acknowledgement.slotPosition(await slotConfirmedLsn(client, source.slotName));
    await this.updatePublication(client);
    await this.relations.rememberPublication(client);
    if (this.halted) return;
    if (this.options.health) {
      this.health = new HealthLoop({
        ...this.options.health,
        catalog: client,
        store,
        sourceId: source.id,
        slotName: source.slotName,
        metrics,
        logger: this.log,
        acknowledge: () => this.acknowledge(),
        // Nothing waits in the slot: whatever failed before does not stand in the way now.
        measured: (lag) => (lag.bytes === 0 ? this.markRecovered() : undefined),
        commitTimes: () => ({
          openCommittedAt: this.builder.openCommittedAt,
          lastStoredCommitAt: this.groupCommit.lastStoredCommitAt,
        }),
      });
    }
    const stream = new ReplicationStream(connection, ssl, source.publicationName, {
      dispatch: (message) => this.dispatch(message),
      fail: (error) => this.fail(error),
      keepalive: (lsn, shouldRespond) => this.keepalive(lsn, shouldRespond),
      started: () => this.started(),
    });
    this.stream = stream;
    // Never subscribe without an LSN: the library would resume from the last *received*
    // position. 0/0 lets the server start at the slot's confirmed position.
    const startLsn = this.options.checkpointLsn ?? "0/0";
    this.log.info({ lsn: startLsn, slot: source.slotName }, "starting replication");
    stream.subscribe(source.slotName, startLsn).then(
      () => (this.halted ? this.settle?.resolve() : this.fail(new Error("Replication stream ended"))),
      (error: unknown) => this.fail(error),
    );
  }

  /**
   * Gives the source's publication today's options where an older Retrace made it without them
   * (lib/sources/publication.ts). Safe whenever a session starts: the change applies to what the
   * source writes after it, and what was written before is decoded as it was published. If it
   * cannot be done (the publication is not this role's to alter), the source streams on as it is.
   */
  private async updatePublication(client: pg.Client): Promise<void> {
    const publication = this.options.source.publicationName;
    try {
      await client.query("begin");
      await client.query("set local lock_timeout = '5s'");
      const options = await ensurePublicationOptions(client, publication);
      await client.query("commit");
      if (options.length > 0) this.log.info({ publication, options }, "publication options updated");
    } catch (error) {
      await client.query("rollback").catch(() => undefined);
      this.log.warn({ err: asError(error), publication }, "could not update the publication's options");
    }
  }

  private started(): void {
    this.log.info("replication started");
    this.health?.start();
    markStreaming(this.options.store, this.options.source.id).catch((error: unknown) =>
      this.log.warn({ err: asError(error) }, "could not record streaming status"),
    );
  }

  /** Once per session, when it gets somewhere: a source that was failing streams again (status.ts says why then). */
  private markRecovered(): void {
    if (this.recovered || this.failure) return;
    this.recovered = true;
    markRecovered(this.options.store, this.options.source.id).catch((error: unknown) =>
      this.log.warn({ err: asError(error) }, "could not record streaming status"),
    );
  }

  private fail(error: unknown): void {
    if (this.failure) return;
    const failure = asError(error);
    this.failure = failure;
    this.groupCommit.fail();
    this.halt();
    this.settle?.reject(failure);
  }

  /** Nothing more is handled, no group commit starts by itself, no lag is measured. */
  private halt(): void {
    this.halted = true;
    this.stream?.halt();
    this.groupCommit.halt();
    this.health?.stop();
  }

  private async close(): Promise<void> {
    this.halt();
    const stream = this.stream;
    this.stream = null;
    await stream?.stop();
    // Whatever did not commit leaves nothing in the store.
    await this.groupCommit.close();
    await this.catalog?.end().catch(() => undefined);
    this.catalog = null;
  }

  /** Hands one message to the part it is for; a promise when it has to wait (see MessagePump). */
  private dispatch(message: StreamMessage): Promise<void> | undefined {
    switch (message.tag) {
      case "parse-error":
        throw message.error;
      case "relation":
        if (!this.catalog) throw new Error("Catalog connection is closed");
        return this.relations.load(this.catalog, message);
      case "begin":
        this.builder.begin(message);
        return undefined;
      case "message":
        if (!message.transactional) return this.betweenTransactions(message);
        this.builder.add(message);
        return undefined;
      case "insert":
      case "update":
      case "delete":
      case "truncate":
        this.builder.add(message);
        if (this.builder.pendingRows < this.limits.maxRows && this.builder.pendingBytes < this.limits.maxBytes) {
          return undefined;
        }
        // A batch of a transaction not committed yet (a large one) goes to the store now.
        return this.groupCommit.writeOpen(this.notices.reported(this.builder.takeBatch()));
      case "commit":
        // A complete transaction joins the group, which commits as soon as the store is free.
        return this.groupCommit.add(this.notices.reported(this.builder.commit(message)));
      case "type":
      case "origin":
        return undefined;
    }
  }

  /**
   * A non-transactional message (a heartbeat, or any other) between transactions: its LSN may be
   * acknowledged once everything received before it is stored, so the group in flight commits first.
   */
  private async betweenTransactions(message: Pgoutput.MessageMessage): Promise<void> {
    if (message.prefix === HEARTBEAT_PREFIX) this.log.trace({ lsn: message.messageLsn }, "heartbeat received");
    if (this.builder.isOpen) return;
    await this.groupCommit.commitComplete();
    if (!message.messageLsn) return;
    const outstanding = { transactionOpen: this.builder.isOpen, storePending: this.groupCommit.busy };
    if (this.acknowledgement.betweenTransactions(message.messageLsn, outstanding)) await this.acknowledge();
  }

  /** A group's store transaction committed; its last source transaction ends at `commitEndLsn`. */
  private async stored(commitEndLsn: string): Promise<void> {
    this.acknowledgement.stored(commitEndLsn);
    await this.acknowledge();
  }

  private keepalive(lsn: string, shouldRespond: boolean): void {
    const { stream, acknowledgement } = this;
    if (this.failure || !stream) return;
    acknowledgement.keepalive(lsn, {
      transactionOpen: this.builder.isOpen,
      storePending: this.groupCommit.busy,
      parsed: stream.parsed,
      handled: stream.handled,
      halted: this.halted,
    });
    if (acknowledgement.isNew || shouldRespond) this.acknowledge().catch((error: unknown) => this.fail(error));
  }

  /** Reports the position `acknowledgement` allows (worker/acknowledgement.ts says why) as flushed. */
  private async acknowledge(): Promise<void> {
    const lsn = this.acknowledgement.lsn;
    const stream = this.stream;
    if (!lsn || !stream || this.failure) return;
    if (!(await stream.acknowledge(lsn))) return;
    this.acknowledgement.acknowledged(lsn);
    if (this.acknowledgement.progressed) this.markRecovered();
  }
}
