import type { Logger } from "pino";
import { connectStore } from "../lib/db/client";
import { expirePartitions } from "../lib/retention/expire";
import { keepPartitions } from "../lib/retention/partitions";
import { startPeriodic, type PeriodicJob } from "./periodic";

/** `firstRound` settles once the first round is done (or failed): the worker streams after it. */
export type PartitionKeeper = PeriodicJob;

/**
 * Every `intervalMs`, on a store connection of its own and off the ingest path: creates the partitions of
 * `changes` ahead and sweeps the default partition (lib/retention/partitions.ts), then drops expired partitions
 * (lib/retention/expire.ts). A round that cannot get a lock within `lockTimeoutMs` leaves that partition for the
 * next round; a failed round is logged and the next one tries again. Ingest never waits for it: rows without a
 * partition go to the default partition meanwhile.
 */
export function startPartitionKeeper(options: {
  databaseUrl: string;
  secret: string;
  logger: Logger;
  intervalMs: number;
  lockTimeoutMs?: number;
  /** The keeper's clock (tests move it ahead to make partitions old). */
  now?: () => Date;
}): PartitionKeeper {
  // Its own small pool, with the store's TLS settings and an error listener on every client (lib/db/client.ts).
  const { pool } = connectStore(options.databaseUrl, { max: 2, name: "retrace-partitions" });
  return startPeriodic({
    logger: options.logger,
    failure: "partition keeping failed",
    retryMs: options.intervalMs,
    close: () => pool.end(),
    round: async (stopping) => {
      const now = options.now?.() ?? new Date();
      const kept = await keepPartitions(pool, { now, lockTimeoutMs: options.lockTimeoutMs });
      if (kept.created.length > 0 || kept.skipped > 0) {
        options.logger.info({ created: kept.created, moved: kept.moved, skipped: kept.skipped }, "partitions made");
      }
      if (stopping()) return options.intervalMs;
      const expired = await expirePartitions(pool, options.secret, { now, lockTimeoutMs: options.lockTimeoutMs });
      if (expired.dropped.length > 0 || expired.waiting.length > 0) {
        options.logger.info({ dropped: expired.dropped, waiting: expired.waiting }, "expired partitions");
      }
      for (const failed of expired.waiting) {
        if (failed.why === "archive-failed") {
          options.logger.warn({ partition: failed.name, error: failed.error }, "archive failed; partition kept");
        }
      }
      return options.intervalMs;
    },
  });
}
