import type { Logger } from "pino";
import type { TransactionBatch } from "../lib/replication/change-row";

/** Logs what the TransactionBuilder noticed while building rows: each table's missing values once. */
export class NoticeLog {
  private readonly warnedUnavailable = new Set<string>();
  private readonly warnedGenerated = new Set<string>();

  constructor(private readonly log: Logger) {}

  /** Logs the notices of a batch or a complete transaction; returns it. */
  reported<T extends TransactionBatch>(batch: T): T {
    if (batch.notices.length > 0) this.report(batch);
    return batch;
  }

  private report({ notices, commitLsn, transactionId }: TransactionBatch): void {
    const log = this.log.child({ lsn: commitLsn });
    for (const notice of notices) {
      if (notice.kind === "context-ignored") {
        log.warn({ xid: transactionId, reason: notice.reason }, "context message ignored");
      } else if (notice.kind === "generated-unpublished") {
        const table = `${notice.schema}.${notice.table}`;
        if (!this.warnedGenerated.has(table)) {
          this.warnedGenerated.add(table);
          log.warn(
            { table, columns: notice.columns },
            "generated columns the source does not publish are left out " +
              "(PostgreSQL 18 publishes stored ones; earlier versions and virtual ones: never)",
          );
        }
      } else {
        const table = `${notice.schema}.${notice.table}`;
        if (!this.warnedUnavailable.has(table)) {
          this.warnedUnavailable.add(table);
          log.warn(
            { table, columns: notice.columns },
            "unchanged TOAST values without an old tuple are left out (set REPLICA IDENTITY FULL)",
          );
        }
      }
    }
  }
}
