import type { Logger } from "pino";
import { connectStore } from "../lib/db/client";
import { fillSealRows } from "../lib/seals/backfill";
import { sealAll } from "../lib/seals/seal";
import { startPeriodic } from "./periodic";

export type Sealer = { stop(): Promise<void> };

/**
 * Seals stored changes (lib/seals) every `intervalMs`, beside ingest and on a store connection of its own:
 * it reads what the trail holds after the fact and adds no work to the ingest path. Then it fills in what seals
 * written before migration 0026 lack (lib/seals/backfill.ts).
 */
export function startSealer(options: {
  databaseUrl: string;
  secret: string;
  logger: Logger;
  intervalMs: number;
  /** The most of its time it spends sealing while behind and ingest is at work (default 0.2: ingest comes first). */
  duty?: number;
  /** Whether ingest is at work: while it is not, the sealer catches up without resting (default: always). */
  ingesting?: () => boolean;
}): Sealer {
  // An error listener on every client (lib/db/client.ts): a store connection cut while sealing must not crash.
  const { pool } = connectStore(options.databaseUrl, { max: 1, name: "retrace-sealer" });
  return startPeriodic({
    logger: options.logger,
    failure: "sealing failed",
    retryMs: options.intervalMs,
    close: () => pool.end(),
    round: async (stopping) => {
      const sealed = await sealAll(pool, options.secret, {
        stopping,
        duty: options.duty ?? 0.2,
        ingesting: options.ingesting,
      });
      if (sealed > 0) options.logger.debug({ sealed }, "sealed changes");
      // Seals from before migration 0026: a batch a round while ingest is at work, all of them once it is quiet.
      let filled = 0;
      for (;;) {
        if (stopping()) break;
        const batch = await fillSealRows(pool);
        filled += batch;
        if (batch === 0 || (options.ingesting?.() ?? true)) break;
      }
      if (filled > 0) options.logger.debug({ filled }, "filled in seals from before 0026");
      return options.intervalMs;
    },
  });
}
