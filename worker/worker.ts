import { eq } from "drizzle-orm";
import type { Logger } from "pino";
import { connectStore, type Store } from "../lib/db/client";
import { sources, type Source } from "../lib/db/schema";
import { keepSourcePartitions } from "../lib/retention/partitions";
import { bucketTables, loadRetentionRules, type RetentionRule } from "../lib/retention/rules";
import { startBaselineRunner } from "./baselines";
import { Lease } from "./lease";
import {
  createWorkerMetrics,
  forgetSourceGauges,
  sourceMetrics,
  type SourceMetrics,
  type WorkerMetrics,
} from "./metrics";
import { DEFAULT_BATCH_LIMITS, type BatchLimits } from "./group-commit";
import { startPartitionKeeper } from "./partition-keeper";
import { startSealer } from "./sealer";
import { SourceStream } from "./source-stream";

export type WorkerOptions = {
  databaseUrl: string;
  secret: string;
  logger: Logger;
  /** How often enabled sources are listed (default 2000 ms). */
  pollIntervalMs?: number;
  /** How long stop() lets an in-flight transaction write and acknowledge (default 10000 ms). */
  drainDeadlineMs?: number;
  /** Retry delays of a failing source (default 1 s .. 30 s). */
  backoff?: { minMs: number; maxMs: number };
  /**
   * How often each streamed source gets a heartbeat message and a lag measurement (default
   * 30000 ms). 0 turns heartbeats off; lag is then still measured every 30 s.
   */
  heartbeatIntervalMs?: number;
  /** When an open source transaction's rows are written (default 1000 rows or 4 MiB). */
  batch?: BatchLimits;
  /** Where counts and gauges go (default: a registry of the worker's own, see `metrics`). */
  metrics?: WorkerMetrics;
  /** Rows a baseline copies per chunk (default lib/baselines/run.ts's). */
  baselineChunkRows?: number;
  /** How often stored changes are sealed (lib/seals; default 1000 ms). */
  sealIntervalMs?: number;
  /** How often partitions are made ahead and expired ones dropped (lib/retention; default 60000 ms). */
  partitionIntervalMs?: number;
  /** The partition keeper's clock (default: the real one). Tests move it ahead to make partitions old. */
  partitionClock?: () => Date;
};

export type Worker = { stop(): Promise<void>; readonly metrics: WorkerMetrics };

export const DEFAULT_HEARTBEAT_INTERVAL_MS = 30_000;

type Running = { fingerprint: string; lease: Lease; stream: SourceStream; writes: Store };

/** How long after its last stored batch ingest counts as at work (the sealer rests meanwhile: lib/seals/seal.ts). */
const INGEST_QUIET_MS = 2_000;

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** A source as streamed: with the tables its environment's retention rules give a bucket of their own. */
type StreamedSource = Source & { bucketTables: string[] };

/** A change to any of these means the stream must reconnect with the new settings. */
function fingerprint(source: StreamedSource): string {
  return JSON.stringify([
    source.host,
    source.port,
    source.database,
    source.username,
    source.passwordEncrypted,
    source.sslMode,
    source.sslRootCert,
    source.environment,
    source.slotName,
    source.publicationName,
    // Rules apply from the session that reads them: a change restarts the stream (from the checkpoint).
    source.columnRules,
    source.trackNewTables,
    // A table rule set or removed changes where its rows go (changes.bucket): from the next session on.
    source.bucketTables,
  ]);
}

/**
 * The ingest worker: streams every enabled source it can lease. Any number of workers can run
 * against one store; each source is streamed by exactly one of them (advisory-lock lease), and
 * a source whose worker dies is picked up by another within a poll interval.
 */
export function startWorker(options: WorkerOptions): Worker {
  const log = options.logger;
  const pollIntervalMs = options.pollIntervalMs ?? 2_000;
  const drainDeadlineMs = options.drainDeadlineMs ?? 10_000;
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
  const health = {
    intervalMs: heartbeatIntervalMs > 0 ? heartbeatIntervalMs : DEFAULT_HEARTBEAT_INTERVAL_MS,
    heartbeats: heartbeatIntervalMs > 0,
  };
  const batch = options.batch ?? DEFAULT_BATCH_LIMITS;
  const metrics = options.metrics ?? createWorkerMetrics();
  // When this worker last stored a batch: the sealer rests between its batches only while ingest is at work.
  let storedAt = -Infinity;
  const ingestMetrics = (sourceId: string): SourceMetrics => {
    const counted = sourceMetrics(metrics, sourceId);
    return {
      ...counted,
      batch: () => {
        storedAt = performance.now();
        counted.batch();
      },
    };
  };
  // Listing sources; each leased source gets its own pool (take()).
  const store = connectStore(options.databaseUrl, { name: "retrace-worker", max: 2 });
  const running = new Map<string, Running>();
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> = Promise.resolve();

  async function release(sourceId: string, why: string): Promise<void> {
    const entry = running.get(sourceId);
    if (!entry) return;
    running.delete(sourceId);
    metrics.sourcesLeased.set(running.size);
    log.info({ sourceId, why }, "releasing source");
    await entry.stream.stop(drainDeadlineMs);
    await entry.writes.pool.end().catch(() => undefined);
    await entry.lease.release();
    forgetSourceGauges(metrics, sourceId);
  }

  async function take(source: StreamedSource): Promise<void> {
    const lease = await Lease.acquire(options.databaseUrl, source.id, (error) => {
      log.warn({ sourceId: source.id, err: { message: error.message } }, "lease lost");
      void release(source.id, "lease lost");
    });
    if (!lease) return;
    if (stopping) {
      await lease.release();
      return;
    }
    // Each source writes through its own few store connections (a session uses at most two while
    // writing, one committing and one filling, plus lag and status updates), so a busy source can
    // neither starve another nor leave it waiting for a connection.
    const writes = connectStore(options.databaseUrl, { name: "retrace-worker", max: 3 });
    const stream = new SourceStream({
      source,
      store: writes.pool,
      secret: options.secret,
      logger: log,
      backoff: options.backoff,
      batch,
      health,
      metrics: ingestMetrics(source.id),
    });
    // Its partitions before its first row (a database connected since the keeper's last round would otherwise
    // start in the default partition). Not needed for ingest: on failure the keeper's next round makes them.
    await keepSourcePartitions(writes.pool, source, { now: options.partitionClock?.() }).catch((error: unknown) => {
      log.warn({ sourceId: source.id, err: { message: errorMessage(error) } }, "could not make partitions");
    });
    running.set(source.id, { fingerprint: fingerprint(source), lease, stream, writes });
    metrics.sourcesLeased.set(running.size);
    log.info({ sourceId: source.id }, "leased source");
    stream.start();
  }

  async function poll(): Promise<void> {
    const rules: RetentionRule[] = await loadRetentionRules(store.pool);
    const enabled = (await store.db.select().from(sources).where(eq(sources.enabled, true))).map((source) => ({
      ...source,
      bucketTables: bucketTables(rules, source.environment).sort(),
    }));
    const wanted = new Map(enabled.map((source) => [source.id, source]));
    const releases: Promise<void>[] = [];
    for (const [sourceId, entry] of running) {
      const source = wanted.get(sourceId);
      if (!source) releases.push(release(sourceId, "disabled or removed"));
      else if (entry.lease.lost) releases.push(release(sourceId, "lease lost"));
      else if (fingerprint(source) !== entry.fingerprint) releases.push(release(sourceId, "settings changed"));
    }
    await Promise.all(releases);
    for (const source of enabled) {
      if (stopping) return;
      if (running.has(source.id)) continue;
      try {
        await take(source);
      } catch (error) {
        log.warn(
          { sourceId: source.id, err: { message: error instanceof Error ? error.message : String(error) } },
          "could not lease source",
        );
      }
    }
  }

  function schedule(delayMs: number): void {
    timer = setTimeout(() => {
      polling = poll()
        .catch((error: unknown) => {
          log.warn(
            { err: { message: error instanceof Error ? error.message : String(error) } },
            "listing sources failed",
          );
        })
        .finally(() => {
          if (!stopping) schedule(pollIntervalMs);
        });
    }, delayMs);
  }

  // Partitions for the current spans exist before the first row is streamed (rows would land in the default
  // partition otherwise, and be moved out later).
  const keeper = startPartitionKeeper({
    databaseUrl: options.databaseUrl,
    secret: options.secret,
    logger: log,
    intervalMs: options.partitionIntervalMs ?? 60_000,
    now: options.partitionClock,
  });
  polling = keeper.firstRound.then(() => {
    if (!stopping) schedule(0);
  });
  const baselines = startBaselineRunner({
    databaseUrl: options.databaseUrl,
    secret: options.secret,
    logger: log,
    pollIntervalMs,
    chunkRows: options.baselineChunkRows,
  });
  const sealer = startSealer({
    databaseUrl: options.databaseUrl,
    secret: options.secret,
    logger: log,
    intervalMs: options.sealIntervalMs ?? 1_000,
    ingesting: () => performance.now() - storedAt < INGEST_QUIET_MS,
  });
  log.info({ pollIntervalMs, heartbeatIntervalMs, batch }, "worker started");

  return {
    metrics,
    async stop() {
      if (stopping) return;
      stopping = true;
      clearTimeout(timer);
      await Promise.all([polling, baselines.stop(), sealer.stop(), keeper.stop()]);
      await Promise.all([...running.keys()].map((sourceId) => release(sourceId, "worker stopping")));
      await store.pool.end();
      log.info("worker stopped");
    },
  };
}
