/**
 * Worker process entry. `retrace start` / `retrace worker` bundle it first (lib/cli/processes.ts,
 * dist/worker.mjs); `node --import tsx worker/run.ts` runs the same code from source.
 * Environment (lib/env.ts env.worker): DATABASE_URL (store), RETRACE_SECRET (decrypts source
 * passwords), LOG_LEVEL (default info), RETRACE_HEARTBEAT_SECONDS (default 30, 0: no heartbeat
 * messages), WORKER_METRICS_PORT / WORKER_METRICS_HOST (default 9464 on 127.0.0.1, port 0: off).
 * Applies store migrations, serves GET /metrics (Prometheus text) and GET /healthz, then streams
 * sources until SIGTERM/SIGINT, which drain in-flight writes and acknowledgements before exiting 0.
 */
import http from "node:http";
import { env as processEnv } from "../lib/env";
import { migrateStore } from "../lib/db/migrate";
import { createLogger, type Logger } from "../lib/log";
import { createWorkerMetrics, type WorkerMetrics } from "./metrics";
import { startWorker } from "./worker";

const env = processEnv.worker;
const logger = createLogger("retrace-worker", env.LOG_LEVEL);

/**
 * The metrics endpoint. If it cannot listen (port taken, e.g. by a second worker on the same
 * machine) that is logged as an error and the worker streams on: capture matters more than
 * its metrics.
 */
function serveMetrics(
  metrics: WorkerMetrics,
  host: string,
  port: number,
  log: Logger,
  isStopping: () => boolean,
): http.Server {
  const server = http.createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD" }).end();
    } else if (path === "/metrics") {
      metrics.registry.metrics().then(
        (text) => response.writeHead(200, { "content-type": metrics.registry.contentType }).end(text),
        (error: unknown) => {
          log.error({ err: error }, "could not collect metrics");
          response.writeHead(500).end();
        },
      );
    } else if (path === "/healthz") {
      const stopping = isStopping();
      response
        .writeHead(stopping ? 503 : 200, { "content-type": "application/json" })
        .end(JSON.stringify({ status: stopping ? "stopping" : "ok" }));
    } else {
      response.writeHead(404).end();
    }
  });
  server.on("error", (error) =>
    log.error({ err: error, host, port }, "metrics endpoint could not listen; streaming continues without it"),
  );
  server.listen(port, host, () => log.info({ host, port }, "metrics endpoint listening"));
  return server;
}

try {
  await migrateStore(env.DATABASE_URL);
  const metrics = createWorkerMetrics({ processMetrics: true });
  let shuttingDown = false;
  const metricsServer =
    env.WORKER_METRICS_PORT > 0
      ? serveMetrics(metrics, env.WORKER_METRICS_HOST, env.WORKER_METRICS_PORT, logger, () => shuttingDown)
      : null;
  const worker = startWorker({
    databaseUrl: env.DATABASE_URL,
    secret: env.RETRACE_SECRET,
    logger,
    heartbeatIntervalMs: Math.round(env.RETRACE_HEARTBEAT_SECONDS * 1000),
    metrics,
  });
  const shutdown = (signal: NodeJS.Signals) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, "stopping");
    worker.stop().then(
      () => {
        metricsServer?.close();
        process.exit(0);
      },
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
