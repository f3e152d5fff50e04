import type { Logger } from "pino";
import { connectStore } from "../lib/db/client";
import { expirePartitions } from "../lib/retention/expire";
import { keepPartitions } from "../lib/retention/partitions";

export type PartitionKeeper = {
  /** Settles once the first round is done (or failed): the worker streams after it. */
  readonly firstRound: Promise<void>;
  stop(): Promise<void>;
};

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
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  async function round(): Promise<void> {
    const now = options.now?.() ?? new Date();
    const kept = await keepPartitions(pool, { now, lockTimeoutMs: options.lockTimeoutMs });
    if (kept.created.length > 0 || kept.skipped > 0) {
      options.logger.info({ created: kept.created, moved: kept.moved, skipped: kept.skipped }, "partitions made");
    }
    if (stopping) return;
    const expired = await expirePartitions(pool, options.secret, { now, lockTimeoutMs: options.lockTimeoutMs });
    if (expired.dropped.length > 0 || expired.waiting.length > 0) {
      options.logger.info({ dropped: expired.dropped, waiting: expired.waiting }, "expired partitions");
    }
  }

  function run(): Promise<void> {
    running = round().catch((error: unknown) => {
      options.logger.warn(
        { err: { message: error instanceof Error ? error.message : String(error) } },
        "partition keeping failed",
      );
    });
    return running;
  }

  function schedule(): void {
    timer = setTimeout(() => {
      void run().finally(() => {
        if (!stopping) schedule();
      });
    }, options.intervalMs);
  }

  const firstRound = run().finally(() => {
    if (!stopping) schedule();
  });
  return {
    firstRound,
    async stop() {
      stopping = true;
      clearTimeout(timer);
      await running;
      await pool.end();
    },
  };
}
