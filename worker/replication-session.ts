import type pg from "pg";
import { LogicalReplicationService, type Pgoutput } from "pg-logical-replication";
import type { Logger } from "pino";
import { writeTransaction } from "../lib/changes/write";
import type { Source } from "../lib/db/schema";
import { compareLsn, libraryAckArgument, normalizeLsn } from "../lib/replication/lsn";
import { RawTextPgoutputPlugin, type StreamMessage } from "../lib/replication/plugin";
import { TransactionBuilder, type BuiltTransaction } from "../lib/replication/rows";
import { clientConfig, openSourceClient } from "../lib/sources/connection";
import { primaryKeyColumns, slotConfirmedLsn } from "./source-connection";

export type SessionSource = Pick<
  Source,
  "id" | "host" | "port" | "database" | "username" | "sslMode" | "environment" | "slotName" | "publicationName"
>;

export type SessionOptions = {
  source: SessionSource;
  password: string;
  /** Commit LSN of the last transaction stored for this source (null: none yet). */
  checkpointLsn: string | null;
  store: pg.Pool;
  logger: Logger;
};

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

const maxLsn = (a: string, b: string) => (compareLsn(a, b) >= 0 ? a : b);

/**
 * One replication connection to a source, from START_REPLICATION until it fails or is drained.
 *
 * Ingest contract, as implemented here:
 * - A transaction is buffered from BEGIN to COMMIT, written by writeTransaction in one store
 *   transaction, and only then acknowledged. The library's auto-ack and ack timer are off.
 * - `confirmableLsn` is the position up to which everything the server sent is either stored or
 *   had nothing to store. It advances on stored commits (to the commit's end LSN) and on server
 *   keepalives when nothing is buffered, in flight or still queued inside the library (the
 *   keepalive's LSN is the server's send position: every transaction committed before it was
 *   already sent, and so already handled).
 * - Once anything fails, nothing more is handled or acknowledged: the service is stopped and
 *   run() rejects; the caller restarts from the stored checkpoint and the server resends.
 */
export class ReplicationSession {
  private readonly log: Logger;
  private service: LogicalReplicationService | null = null;
  private plugin: RawTextPgoutputPlugin | null = null;
  private catalog: pg.Client | null = null;
  private readonly builder: TransactionBuilder;
  private readonly keys = new Map<number, string[]>();
  private readonly warnedUnavailable = new Set<string>();

  private handledCount = 0;
  private inflight: Promise<void> | null = null;
  private confirmableLsn: string | null = null;
  private ackedLsn: string | null = null;
  private halted = false;
  private failure: Error | null = null;
  private settle: { resolve: () => void; reject: (error: Error) => void } | null = null;
  /** True once this session stored a transaction or confirmed a keepalive position. */
  progressed = false;

  constructor(private readonly options: SessionOptions) {
    this.log = options.logger;
    this.builder = new TransactionBuilder(
      { environment: options.source.environment, database: options.source.database },
      (oid) => this.keys.get(oid),
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
    const inflight = this.inflight;
    if (inflight) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, deadlineMs);
      });
      await Promise.race([inflight.catch(() => undefined), deadline]);
      clearTimeout(timer);
    }
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
    const service = this.service;
    this.service = null;
    if (service) {
      await service.stop().catch(() => undefined);
      service.removeAllListeners();
    }
    await this.catalog?.end().catch(() => undefined);
    this.catalog = null;
  }

  private started(): void {
    this.log.info("replication started");
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
          await this.loadKey(message);
          break;
        case "begin":
          this.builder.begin(message);
          break;
        case "insert":
        case "update":
        case "delete":
        case "truncate":
        case "message":
          this.builder.add(message);
          break;
        case "commit": {
          this.inflight = this.store(this.builder.commit(message));
          try {
            await this.inflight;
          } finally {
            this.inflight = null;
          }
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

  private async loadKey(relation: Pgoutput.MessageRelation): Promise<void> {
    const catalog = this.catalog;
    if (!catalog) throw new Error("Catalog connection is closed");
    // Refreshed on every relation message: the server resends one after DDL on the table.
    this.keys.set(relation.relationOid, await primaryKeyColumns(catalog, relation.relationOid));
  }

  private async store(tx: BuiltTransaction): Promise<void> {
    const log = this.log.child({ lsn: tx.commitLsn });
    for (const notice of tx.notices) {
      if (notice.kind === "context-ignored") {
        log.warn({ xid: tx.transactionId, reason: notice.reason }, "context message ignored");
      } else {
        const table = `${notice.schema}.${notice.table}`;
        if (!this.warnedUnavailable.has(table)) {
          this.warnedUnavailable.add(table);
          log.warn({ table, columns: notice.columns }, "unchanged TOAST values without an old tuple are left out (set REPLICA IDENTITY FULL)");
        }
      }
    }
    const { inserted } = await writeTransaction(this.options.store, this.options.source.id, tx.rows, tx.commitLsn);
    log.debug({ rows: tx.rows.length, inserted }, "transaction stored");
    this.progressed = true;
    await this.confirm(tx.commitEndLsn);
  }

  private keepalive(lsn: string, shouldRespond: boolean): void {
    if (this.failure || !this.plugin) return;
    const everythingHandled =
      !this.halted && !this.builder.isOpen && this.inflight === null && this.plugin.parsedCount === this.handledCount;
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

  /** Reports `confirmableLsn` (advanced to `storedUpTo` first) as flushed to the server. */
  private async confirm(storedUpTo: string | null): Promise<void> {
    if (storedUpTo) this.confirmableLsn = this.confirmableLsn ? maxLsn(this.confirmableLsn, storedUpTo) : storedUpTo;
    const lsn = this.confirmableLsn;
    const service = this.service;
    if (!lsn || !service || this.failure) return;
    const argument = libraryAckArgument(lsn);
    if (!argument) return;
    if (await service.acknowledge(argument)) this.ackedLsn = lsn;
  }
}
