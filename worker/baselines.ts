import type { Logger } from "pino";
import { runNextBaseline } from "../lib/baselines/run";
import { connectStore } from "../lib/db/client";
import { startPeriodic } from "./periodic";

export type BaselineRunner = { stop(): Promise<void> };

/**
 * Runs the baselines people ask for (lib/baselines/), one at a time per worker, beside ingest and on a store
 * connection of its own: a copy never holds up a stream. Several workers share the queue (claims skip locked rows).
 */
export function startBaselineRunner(options: {
  databaseUrl: string;
  secret: string;
  logger: Logger;
  pollIntervalMs: number;
  chunkRows?: number;
}): BaselineRunner {
  const store = connectStore(options.databaseUrl, { name: "retrace-baselines", max: 1 });
  return startPeriodic({
    logger: options.logger,
    failure: "baseline queue failed",
    retryMs: options.pollIntervalMs,
    close: () => store.pool.end(),
    round: async (stopping) => {
      const ran = await runNextBaseline(store.db, {
        secret: options.secret,
        logger: options.logger,
        chunkRows: options.chunkRows,
        stopping,
      });
      return ran ? 0 : options.pollIntervalMs;
    },
  });
}
