import type { Logger } from "pino";
import { connectStore } from "../lib/db/client";
import { sealAll } from "../lib/seals/seal";

export type Sealer = { stop(): Promise<void> };

/**
 * Seals stored changes (lib/seals) every `intervalMs`, beside ingest and on a store connection of its own:
 * it reads what the trail holds after the fact and adds no work to the ingest path.
 */
export function startSealer(options: {
  databaseUrl: string;
  secret: string;
  logger: Logger;
  intervalMs: number;
  /** The most of its time it spends sealing while behind (default 0.2: ingest comes first). */
  duty?: number;
}): Sealer {
  // An error listener on every client (lib/db/client.ts): a store connection cut while sealing must not crash.
  const { pool } = connectStore(options.databaseUrl, { max: 1, name: "retrace-sealer" });
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  function schedule(delayMs: number): void {
    timer = setTimeout(() => {
      running = sealAll(pool, options.secret, { stopping: () => stopping, duty: options.duty ?? 0.2 })
        .then((sealed) => {
          if (sealed > 0) options.logger.debug({ sealed }, "sealed changes");
        })
        .catch((error: unknown) => {
          options.logger.warn(
            { err: { message: error instanceof Error ? error.message : String(error) } },
            "sealing failed",
          );
        })
        .finally(() => {
          if (!stopping) schedule(options.intervalMs);
        });
    }, delayMs);
  }

  schedule(0);
  return {
    async stop() {
      stopping = true;
      clearTimeout(timer);
      await running;
      await pool.end();
    },
  };
}
