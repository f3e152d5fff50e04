import type pg from "pg";
import type { Logger } from "pino";
import { backoffDelay } from "../lib/backoff";
import { columnMaskKey, valueMasker } from "../lib/crypto/mask";
import type { Source } from "../lib/db/schema";
import { decryptSourcePassword } from "../lib/sources/password";
import { describeFailure, type FailingSource } from "../lib/sources/failure";
import { lastErrorText, recordError, storedPosition } from "../lib/sources/status";
import type { BatchLimits } from "./group-commit";
import type { SourceMetrics } from "./metrics";
import { ReplicationSession, type SessionSource } from "./replication-session";
import type { HealthOptions } from "./source-health";

export type StreamSource = SessionSource & Pick<Source, "passwordEncrypted">;

export type SourceStreamOptions = {
  source: StreamSource;
  store: pg.Pool;
  secret: string;
  logger: Logger;
  /** Retry delays: exponential from minMs, capped at maxMs, with jitter. */
  backoff?: { minMs: number; maxMs: number };
  batch?: BatchLimits;
  health?: HealthOptions;
  metrics?: SourceMetrics;
};

/** The store's unique index rejected a row (SQLSTATE 23505). */
function isUniqueViolation(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "23505";
}

/**
 * Keeps one source streaming: runs a ReplicationSession, and when it fails records the error on
 * the source row and starts a new one from the stored checkpoint after a backoff.
 */
export class SourceStream {
  private readonly log: Logger;
  private stopping = false;
  private loop: Promise<void> | null = null;
  private session: ReplicationSession | null = null;
  private wakeUp: (() => void) | null = null;
  /** The last session met a row already stored: the next one writes with ON CONFLICT DO NOTHING. */
  private afterDuplicate = false;
  private readonly mask: (text: string) => string;

  constructor(private readonly options: SourceStreamOptions) {
    this.log = options.logger.child({ sourceId: options.source.id });
    this.mask = valueMasker(columnMaskKey(options.secret));
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Drains the current session (in-flight write and acknowledgement, up to deadlineMs) and stops retrying. */
  async stop(deadlineMs = 10_000): Promise<void> {
    this.stopping = true;
    this.wakeUp?.();
    await this.session?.drain(deadlineMs);
    await this.loop;
  }

  private async run(): Promise<void> {
    const { minMs, maxMs } = this.options.backoff ?? { minMs: 1_000, maxMs: 30_000 };
    let attempt = 0;
    while (!this.stopping) {
      let session: ReplicationSession | null = null;
      let connection: FailingSource | null = null;
      try {
        const password = decryptSourcePassword(this.options.source.passwordEncrypted, this.options.secret);
        connection = { ...this.options.source, password };
        const { checkpointLsn, lastChangeAt } = await storedPosition(this.options.store, this.options.source.id);
        if (this.stopping) break;
        const writeMode = this.afterDuplicate ? "insert" : "copy";
        if (this.afterDuplicate)
          this.log.warn("the store already held a change sent again: writing with ON CONFLICT DO NOTHING this session");
        this.afterDuplicate = false;
        session = new ReplicationSession({
          source: this.options.source,
          password,
          mask: this.mask,
          checkpointLsn,
          lastChangeAt,
          store: this.options.store,
          logger: this.log,
          batch: this.options.batch,
          health: this.options.health,
          metrics: this.options.metrics,
          writeMode,
        });
        this.session = session;
        await session.run();
      } catch (error) {
        if (session?.progressed) attempt = 0;
        this.afterDuplicate = isUniqueViolation(error);
        const delay = backoffDelay(attempt++, minMs, maxMs);
        if (!this.stopping) {
          this.options.metrics?.error();
          this.log.warn({ err: { message: lastErrorText(error) }, retryInMs: delay }, "replication failed");
          await this.recordError(error, connection);
          await this.sleep(delay);
        }
      } finally {
        this.session = null;
      }
    }
  }

  /** The source's row says why, as a user can act on it (lib/sources/failure.ts). */
  private async recordError(error: unknown, connection: FailingSource | null): Promise<void> {
    try {
      await recordError(this.options.store, this.options.source.id, describeFailure(error, connection));
    } catch (storeError) {
      this.log.warn({ err: { message: lastErrorText(storeError) } }, "could not record the error on the source");
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    }).then(() => {
      this.wakeUp = null;
    });
  }
}
