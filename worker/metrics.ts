import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";

/**
 * The worker's Prometheus metrics, in a registry of its own (never prom-client's global one), so
 * that several workers in one process (tests) do not share counts. `source` is the source id.
 */
export type WorkerMetrics = {
  registry: Registry;
  /** Rows inserted into `changes` by committed store transactions (replayed duplicates excluded). */
  changesWritten: Counter<"source">;
  /** Source transactions stored (their store transaction committed), with or without rows. */
  transactions: Counter<"source">;
  /** Batches of rows inserted (a large source transaction is written as several). */
  batches: Counter<"source">;
  /** Replication sessions that failed (each is retried from the stored checkpoint). */
  errors: Counter<"source">;
  lagBytes: Gauge<"source">;
  lagSeconds: Gauge<"source">;
  sourcesLeased: Gauge;
};

/** What one source's stream reports; bound to its label. */
export type SourceMetrics = {
  changesWritten(count: number): void;
  /** Source transactions whose store transaction committed. */
  transactionsStored(count: number): void;
  batch(): void;
  error(): void;
  lag(bytes: number, seconds: number | null): void;
};

export function createWorkerMetrics(options: { processMetrics?: boolean } = {}): WorkerMetrics {
  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry });
  const labelNames = ["source"] as const;
  const registers = [registry];
  return {
    registry,
    changesWritten: new Counter({
      name: "retrace_changes_written_total",
      help: "Changes written to the store (committed, duplicates of a replay excluded)",
      labelNames,
      registers,
    }),
    transactions: new Counter({
      name: "retrace_transactions_total",
      help: "Source transactions stored",
      labelNames,
      registers,
    }),
    batches: new Counter({
      name: "retrace_batches_total",
      help: "Batches of changes inserted into the store",
      labelNames,
      registers,
    }),
    errors: new Counter({
      name: "retrace_errors_total",
      help: "Replication sessions that failed and were retried",
      labelNames,
      registers,
    }),
    lagBytes: new Gauge({
      name: "retrace_lag_bytes",
      help: "Source WAL bytes past the replication slot's confirmed position",
      labelNames,
      registers,
    }),
    lagSeconds: new Gauge({
      name: "retrace_lag_seconds",
      help: "Seconds the stored audit trail is behind the source (see worker/source-health.ts)",
      labelNames,
      registers,
    }),
    sourcesLeased: new Gauge({
      name: "retrace_sources_leased",
      help: "Sources this worker holds the lease of",
      registers,
    }),
  };
}

export function sourceMetrics(metrics: WorkerMetrics, sourceId: string): SourceMetrics {
  const labels = { source: sourceId };
  const changesWritten = metrics.changesWritten.labels(labels);
  const transactions = metrics.transactions.labels(labels);
  const batches = metrics.batches.labels(labels);
  const errors = metrics.errors.labels(labels);
  // Present from the start at 0, so that rate() and alerts see the first increment.
  for (const counter of [changesWritten, transactions, batches, errors]) counter.inc(0);
  return {
    changesWritten: (count) => changesWritten.inc(count),
    transactionsStored: (count) => transactions.inc(count),
    batch: () => batches.inc(),
    error: () => errors.inc(),
    lag(bytes, seconds) {
      metrics.lagBytes.set(labels, bytes);
      // No sample rather than a made-up one when the lag in seconds cannot be known.
      if (seconds === null) metrics.lagSeconds.remove(labels);
      else metrics.lagSeconds.set(labels, seconds);
    },
  };
}

/** Drops a released source's gauges: a lag nobody measures any more must not look current. */
export function forgetSourceGauges(metrics: WorkerMetrics, sourceId: string): void {
  metrics.lagBytes.remove({ source: sourceId });
  metrics.lagSeconds.remove({ source: sourceId });
}
