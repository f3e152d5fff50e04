import type { Logger } from "pino";
import { runNextBaseline } from "../lib/baselines/run";
import { connectStore } from "../lib/db/client";

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
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  function schedule(delayMs: number): void {
    timer = setTimeout(() => {
      running = runNextBaseline(store.db, {
        secret: options.secret,
        logger: options.logger,
        chunkRows: options.chunkRows,
        stopping: () => stopping,
      })
        .then((ran) => {
          if (!stopping) schedule(ran ? 0 : options.pollIntervalMs);
        })
        .catch((error: unknown) => {
          options.logger.warn(
            { err: { message: error instanceof Error ? error.message : String(error) } },
            "baseline queue failed",
          );
          if (!stopping) schedule(options.pollIntervalMs);
        });
    }, delayMs);
  }

  schedule(0);
  return {
    async stop() {
      stopping = true;
      clearTimeout(timer);
      await running;
      await store.pool.end();
    },
  };
}
