import pg from "pg";
import { runPgRecvlogical, spawnWorker } from "./processes";
import { sleep, storedCount, type BenchServers } from "./servers";
import { currentWalLsn, provision, registerSource, teardown } from "./source";
import type { ThroughputWorkload } from "./workloads";

export const RATIO_TARGET = 0.5;
export const RSS_TARGET_MB = 256;
export const STALL_MS = 90_000;
/**
 * pg_recvlogical drains this many copies of the slot, one after the other, and its rate is the
 * median: on this machine one drain can be twice as fast as the next a minute later.
 */
export const BASELINE_DRAINS = 3;

type Drain = { seconds: number; rate: number };

export type ThroughputResult = {
  name: string;
  label: string;
  changes: number;
  transactions: number;
  generateSeconds: number;
  /** The median drain, and every drain in the order they ran. */
  baseline: (Drain & { drains: Drain[] }) | null;
  retrace: {
    /** From spawning the worker until the store held every change (startup included). */
    seconds: number;
    rate: number;
    /** From spawning the worker until it reported the source as streaming. */
    startupSeconds: number | null;
    /** Changes per second once streaming (start-up left out); informative, the target is `rate`. */
    streamingRate: number | null;
    stored: number;
    completed: boolean;
  } | null;
  ratio: number | null;
  peakRssMb: number | null;
  /** Only workload C carries the memory target. */
  rssTargetMb: number | null;
  targetsMet: boolean;
  errors: string[];
};

/**
 * One throughput workload: generate it at the source while nothing consumes, drain the
 * baseline slot with pg_recvlogical, then run the real worker on the other slot until the store
 * holds every change.
 */
export async function runThroughput(
  servers: BenchServers,
  workload: ThroughputWorkload,
  pgRecvlogical: string,
  log: (line: string) => void,
): Promise<ThroughputResult> {
  const result: ThroughputResult = {
    name: workload.name,
    label: workload.label,
    changes: workload.changes,
    transactions: workload.transactions,
    generateSeconds: 0,
    baseline: null,
    retrace: null,
    ratio: null,
    peakRssMb: null,
    rssTargetMb: workload.name === "c" ? RSS_TARGET_MB : null,
    targetsMet: false,
    errors: [],
  };
  const provisioned = await provision(servers, workload.name, BASELINE_DRAINS);
  let sourceId: string | null = null;
  try {
    // 1. The workload, with no consumer attached to any slot.
    log(
      `generating ${workload.changes.toLocaleString("en-US")} changes ` +
        `in ${workload.transactions.toLocaleString("en-US")} transaction(s)`,
    );
    const generator = new pg.Client({ connectionString: servers.sourceUrl });
    await generator.connect();
    let lastCommitBefore: string;
    const generateStart = performance.now();
    try {
      lastCommitBefore = await workload.generate(generator, provisioned.table);
    } finally {
      await generator.end();
    }
    result.generateSeconds = (performance.now() - generateStart) / 1000;
    const endLsn = await currentWalLsn(servers.sourcePool);
    log(`generated in ${result.generateSeconds.toFixed(1)} s; WAL end ${endLsn}`);
    await Promise.all([servers.sourcePool.query("checkpoint"), servers.storePool.query("checkpoint")]);

    // Generous: a slow worker is measured to the end (a floor of 300 changes/s plus a minute);
    // a stuck one (no CPU used for STALL_MS) is given up on sooner.
    const timeoutMs = 60_000 + (workload.changes / 300) * 1000;

    // 2. Baseline: pg_recvlogical drains its own slots, same plugin and options, one at a time.
    try {
      const drains: Drain[] = [];
      for (const slot of provisioned.baselineSlots) {
        const seconds = await runPgRecvlogical({
          binary: pgRecvlogical,
          port: servers.source.port,
          password: servers.source.password,
          database: "app",
          slot,
          publication: provisioned.publication,
          endLsn,
          timeoutMs,
        });
        drains.push({ seconds, rate: workload.changes / seconds });
        log(
          `pg_recvlogical (${slot}): ${seconds.toFixed(2)} s, ` +
            `${Math.round(workload.changes / seconds).toLocaleString("en-US")} changes/s`,
        );
      }
      const median = [...drains].sort((a, b) => a.rate - b.rate)[Math.floor(drains.length / 2)];
      if (!median) throw new Error("no baseline slot");
      result.baseline = { ...median, drains };
      log(`pg_recvlogical median: ${Math.round(median.rate).toLocaleString("en-US")} changes/s`);
    } catch (error) {
      result.errors.push(`baseline: ${error instanceof Error ? error.message : String(error)}`);
      log(`pg_recvlogical failed: ${result.errors.at(-1)}`);
    }
    await servers.storePool.query("checkpoint");

    // 3. Retrace: the real worker process, timed from spawn until the store holds everything.
    sourceId = await registerSource(servers, provisioned);
    const worker = spawnWorker(servers.storeUrl, workload.name);
    const started = performance.now();
    let startupSeconds: number | null = null;
    let doneSeconds: number | null = null;
    let lastError: string | null = null;
    try {
      while (performance.now() - started < timeoutMs) {
        const { rows } = await servers.storePool.query<{ done: boolean; status: string; last_error: string | null }>(
          "select coalesce(checkpoint_lsn >= $2::pg_lsn, false) as done, status::text, last_error " +
            "from sources where id = $1",
          [sourceId, lastCommitBefore],
        );
        const row = rows[0];
        if (startupSeconds === null && row && row.status !== "pending")
          startupSeconds = (performance.now() - started) / 1000;
        if (row?.last_error && row.last_error !== lastError) {
          lastError = row.last_error;
          log(`worker reports: ${lastError}`);
        }
        if (row?.done) {
          doneSeconds = (performance.now() - started) / 1000;
          break;
        }
        if (worker.hasExited()) throw new Error(`the worker exited early:\n${worker.logTail()}`);
        if (worker.rss.idleMs > STALL_MS) {
          throw new Error(
            `the worker used no CPU for ${STALL_MS / 1000} s and the store is incomplete:\n${worker.logTail()}`,
          );
        }
        await sleep(100);
      }
      let stored = await storedCount(servers, sourceId);
      if (doneSeconds !== null && stored !== workload.changes) {
        // The checkpoint passed the last transaction but the count disagrees: say so, keep going.
        result.errors.push(
          `checkpoint reached the last transaction with ${stored} of ${workload.changes} changes stored`,
        );
        while (stored < workload.changes && performance.now() - started < timeoutMs) {
          await sleep(500);
          stored = await storedCount(servers, sourceId);
        }
        doneSeconds = stored >= workload.changes ? (performance.now() - started) / 1000 : null;
      }
      const elapsed = doneSeconds ?? (performance.now() - started) / 1000;
      result.retrace = {
        seconds: elapsed,
        rate: (doneSeconds === null ? stored : workload.changes) / elapsed,
        startupSeconds,
        streamingRate:
          doneSeconds !== null && startupSeconds !== null && elapsed > startupSeconds
            ? workload.changes / (elapsed - startupSeconds)
            : null,
        stored,
        completed: doneSeconds !== null,
      };
      if (doneSeconds === null) {
        result.errors.push(
          `timed out after ${Math.round(elapsed)} s with ${stored} of ${workload.changes} changes stored`,
        );
      }
      log(
        `retrace: ${elapsed.toFixed(2)} s (startup ${startupSeconds?.toFixed(2) ?? "?"} s), ` +
          `${Math.round(result.retrace.rate).toLocaleString("en-US")} changes/s, ` +
          `${stored.toLocaleString("en-US")} stored`,
      );
    } catch (error) {
      result.errors.push(`retrace: ${error instanceof Error ? error.message : String(error)}`);
      log(`retrace failed: ${result.errors.at(-1)}`);
    } finally {
      worker.rss.stop();
      result.peakRssMb = worker.rss.peakMb;
      const code = await worker.stop();
      if (code !== 0) result.errors.push(`worker exited with ${code} on SIGTERM:\n${worker.logTail()}`);
    }
    log(`worker peak RSS ${result.peakRssMb} MB`);
  } finally {
    await teardown(servers, provisioned, sourceId).catch((error: unknown) => {
      result.errors.push(`cleanup: ${error instanceof Error ? error.message : String(error)}`);
    });
  }

  if (result.baseline && result.retrace?.completed) result.ratio = result.retrace.rate / result.baseline.rate;
  result.targetsMet =
    result.ratio !== null &&
    result.ratio >= RATIO_TARGET &&
    (result.rssTargetMb === null || (result.peakRssMb !== null && result.peakRssMb <= result.rssTargetMb)) &&
    result.errors.length === 0;
  return result;
}
