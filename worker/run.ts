/**
 * Worker process entry: `node --import tsx worker/run.ts`.
 * Environment (lib/env.ts runtimeEnv): DATABASE_URL (store), RETRACE_SECRET (decrypts source
 * passwords), LOG_LEVEL (default info). Applies store migrations, then streams sources until
 * SIGTERM/SIGINT, which drain in-flight writes and acknowledgements before exiting 0.
 */
import { runtimeEnv } from "../lib/env";
import { migrateStore } from "../lib/db/migrate";
import { createLogger } from "../lib/log";
import { startWorker } from "./worker";

const env = runtimeEnv();
const logger = createLogger("retrace-worker", env.LOG_LEVEL);

try {
  await migrateStore(env.DATABASE_URL);
  const worker = startWorker({ databaseUrl: env.DATABASE_URL, secret: env.RETRACE_SECRET, logger });
  let shuttingDown = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, "stopping");
    worker.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "unclean stop");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
} catch (error) {
  logger.fatal({ err: error }, "worker failed to start");
  process.exit(1);
}
