import {
  BROWSE_SOURCES,
  provisionBrowseSources,
  storedChanges,
  transactionsPerSource,
  waitUntilStored,
  writeBrowseTransactions,
  writtenChanges,
  type BrowseSources,
} from "./browse-workload";
import { openBrowseSession, type BrowseSession, type BrowseTiming, type FirstPaint } from "./browse-web";
import { spawnWorker } from "./processes";
import { describeEstimate, diskUse, estimateDisk, refusal, type DiskEstimate, type DiskUse } from "./scale-disk";
import { sleep, type BenchServers } from "./servers";

/** The trail sizes measured at scale 1 (`--scale` multiplies them), and the chunk whose ingest each step times. */
export const SCALE_STEPS = [10_000_000, 50_000_000];
export const SCALE_CHUNK = 1_000_000;
/** A figure grows with the trail when the last step's is this many times the first's (rates: its inverse). */
export const GROWTH_LIMIT = 1.25;
/** A p95 that moved by less than this is noise on a shared 2-core machine, whatever the ratio. */
export const NOISE_MS = 5;
const STALL_MS = 120_000;

export type ChunkIngest = {
  changes: number;
  /** From spawning the worker until the store held the chunk (start-up included). */
  seconds: number;
  rate: number;
  /** From the worker's three replication streams being active until the store held the chunk. */
  streamingSeconds: number | null;
  streamingRate: number | null;
};

export type ScaleStep = {
  /** Changes the store held when the step was measured. */
  changes: number;
  /** The step's last chunk, written while nothing consumed, then stored by a freshly started worker. */
  ingest: ChunkIngest | null;
  /** Peak RSS of the workers that stored this step (the filling one and the timed one). */
  workerPeakRssMb: number;
  vacuumAnalyzeSeconds: number;
  disk: DiskUse;
  queries: BrowseTiming[];
  firstPaint: FirstPaint | null;
};

export type ScaleGrowth = {
  /** Last step's streaming ingest rate / first's (below 1/GROWTH_LIMIT: ingest slows as the trail grows). */
  ingestRatio: number | null;
  ingestGrows: boolean | null;
  /** Last step's p95 / first's, per query; `grows` as defined by GROWTH_LIMIT and NOISE_MS. */
  queries: { name: string; ratio: number; grows: boolean }[];
  medianP95Ratio: number | null;
  p95Grows: boolean | null;
};

export type ScaleResult = {
  stepsAtScale1: number[];
  chunkAtScale1: number;
  steps: ScaleStep[];
  /** Estimates printed before the run and before each later step (the disk they need, the disk free). */
  estimates: DiskEstimate[];
  growth: ScaleGrowth | null;
  /** Why the workload did not run (or stopped before its last step), if it did not. */
  refused: string | null;
  errors: string[];
};

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? null : (sorted[Math.floor((sorted.length - 1) / 2)] ?? null);
};

export function growthOf(first: ScaleStep, last: ScaleStep): ScaleGrowth {
  const rate = (step: ScaleStep) => step.ingest?.streamingRate ?? step.ingest?.rate ?? null;
  const [before, after] = [rate(first), rate(last)];
  const ingestRatio = before && after ? after / before : null;
  const queries = last.queries.flatMap((q) => {
    const earlier = first.queries.find((f) => f.name === q.name);
    if (!earlier || earlier.p95Ms <= 0) return [];
    const ratio = q.p95Ms / earlier.p95Ms;
    return [{ name: q.name, ratio, grows: ratio > GROWTH_LIMIT && q.p95Ms - earlier.p95Ms > NOISE_MS }];
  });
  const medianP95Ratio = median(queries.map((q) => q.ratio));
  return {
    ingestRatio,
    ingestGrows: ingestRatio === null ? null : ingestRatio < 1 / GROWTH_LIMIT,
    queries,
    medianP95Ratio,
    p95Grows: queries.length === 0 ? null : queries.some((q) => q.grows),
  };
}

const num = (n: number) => Math.round(n).toLocaleString("en-US");

/** Source slots the worker is streaming from (its replication connections hold them). */
async function activeSlots(servers: BenchServers): Promise<number> {
  const { rows } = await servers.sourcePool.query<{ n: number }>(
    "select count(*)::int as n from pg_replication_slots where active and slot_name = any($1)",
    [BROWSE_SOURCES.map((s) => `browse_${s.environment}`)],
  );
  return rows[0]?.n ?? 0;
}

type Worker = ReturnType<typeof spawnWorker>;
const alive = (worker: Worker) => () => {
  if (worker.hasExited()) throw new Error(`the worker exited early:\n${worker.logTail()}`);
};

async function stopWorker(worker: Worker, errors: string[]): Promise<number> {
  const peak = worker.rss.stop();
  const code = await worker.stop();
  if (code !== 0) errors.push(`worker exited with ${code} on SIGTERM:\n${worker.logTail()}`);
  return peak;
}

/** Where the writers are: the next transaction (per database) and the one that TRUNCATEs in staging. */
type Cursor = { tx: number; truncateAt: number };

/** Writes transactions until the sources have written at least `until` changes, `batch` at a time at most. */
async function writeUntil(sources: BrowseSources, cursor: Cursor, until: number, batch: number): Promise<number> {
  let written = await writtenChanges(sources);
  while (written < until) {
    const count = transactionsPerSource(Math.min(until - written, batch));
    const range = { from: cursor.tx, to: cursor.tx + count, truncateAt: cursor.truncateAt };
    await writeBrowseTransactions(sources, range, () => undefined);
    cursor.tx += count;
    written = await writtenChanges(sources);
  }
  return written;
}

/**
 * Writes until the sources have written `until` changes, with the worker storing them meanwhile, the writers never
 * more than one batch ahead of the store (so the slots hold one batch of WAL at most). Returns the worker's peak RSS.
 */
async function fill(
  servers: BenchServers,
  sources: BrowseSources,
  writing: { cursor: Cursor; until: number; batch: number },
  result: ScaleResult,
  log: (line: string) => void,
): Promise<number> {
  let written = await writtenChanges(sources);
  if (written >= writing.until) return 0;
  const worker = spawnWorker(servers.storeUrl, "scale-fill");
  let peakMb = 0;
  try {
    while (written < writing.until) {
      const previous = written;
      const next = Math.min(writing.until, written + writing.batch);
      written = await writeUntil(sources, writing.cursor, next, writing.batch);
      await waitUntilStored(servers, previous, STALL_MS, alive(worker));
      log(`${num(written)} changes written, ${num(await storedChanges(servers))} stored`);
    }
    await waitUntilStored(servers, written, STALL_MS, alive(worker));
  } finally {
    peakMb = await stopWorker(worker, result.errors);
  }
  return peakMb;
}

/** Starts the worker on what the sources hold and times it until the store holds `expected` changes. */
async function storeChunk(
  servers: BenchServers,
  from: number,
  expected: number,
  result: ScaleResult,
): Promise<{ ingest: ChunkIngest; peakMb: number }> {
  // The last worker's streams must be gone, or their slots would count as this one's.
  for (let waited = 0; (await activeSlots(servers)) > 0; waited += 100) {
    if (waited > 30_000) throw new Error("the source's slots are still in use 30 s after the worker stopped");
    await sleep(100);
  }
  const worker = spawnWorker(servers.storeUrl, "scale-chunk");
  const spawned = performance.now();
  let streamingAt: number | null = null;
  let peakMb = 0;
  let done: number;
  try {
    let [last, movedAt] = [-1, spawned];
    for (;;) {
      if (streamingAt === null && (await activeSlots(servers)) === BROWSE_SOURCES.length) {
        streamingAt = performance.now();
      }
      const stored = await storedChanges(servers);
      if (stored >= expected) break;
      alive(worker)();
      if (stored !== last) [last, movedAt] = [stored, performance.now()];
      else if (performance.now() - movedAt > STALL_MS) throw new Error(`the worker stalled at ${stored} changes`);
      await sleep(100);
    }
    done = performance.now();
  } finally {
    peakMb = await stopWorker(worker, result.errors);
  }
  const changes = expected - from;
  const seconds = (done - spawned) / 1000;
  const streamingSeconds = streamingAt === null || done <= streamingAt ? null : (done - streamingAt) / 1000;
  const ingest: ChunkIngest = {
    changes,
    seconds: Math.round(seconds * 100) / 100,
    rate: Math.round(changes / seconds),
    streamingSeconds: streamingSeconds === null ? null : Math.round(streamingSeconds * 100) / 100,
    streamingRate: streamingSeconds === null ? null : Math.round(changes / streamingSeconds),
  };
  return { ingest, peakMb };
}

/**
 * The scale workload: the browse workload's kind of changes (three environments, 20 skewed tables) stored by the
 * real worker in steps (10M, then 50M stored, × scale); at each step the ingest rate of its last chunk (1M × scale
 * changes, written while nothing consumed, then stored by a freshly started worker) and every browse query through
 * the web app, so the two steps show how ingest and browse grow with the trail. Needs servers of its own.
 */
export async function runScale(servers: BenchServers, scale: number, log: (line: string) => void) {
  const targets = SCALE_STEPS.map((changes) => Math.round(changes * scale));
  const result: ScaleResult = {
    stepsAtScale1: SCALE_STEPS,
    chunkAtScale1: SCALE_CHUNK,
    steps: [],
    estimates: [],
    growth: null,
    refused: null,
    errors: [],
  };
  const last = targets.at(-1) ?? 0;
  const empty = await diskUse(servers);
  const upfront = estimateDisk(empty, empty, 0, last);
  result.estimates.push(upfront);
  log(`disk ${describeEstimate(upfront)}`);
  if (!upfront.fits) {
    result.refused = refusal(upfront);
    return result;
  }

  const sources = await provisionBrowseSources(servers);
  let session: BrowseSession | null = null;
  try {
    const start = await diskUse(servers);
    const chunk = Math.round(SCALE_CHUNK * scale);
    const cursor: Cursor = { tx: 0, truncateAt: Math.floor(transactionsPerSource(targets[0] ?? 0) / 2) };
    for (const [index, target] of targets.entries()) {
      if (index > 0) {
        const estimate = estimateDisk(start, await diskUse(servers), await writtenChanges(sources), last);
        result.estimates.push(estimate);
        log(`disk ${describeEstimate(estimate)}`);
        if (!estimate.fits) {
          result.refused = refusal(estimate);
          break;
        }
      }
      log(`— step ${index + 1}: to ~${num(target)} changes stored`);
      const writing = { cursor, until: target - chunk, batch: 2 * chunk };
      const fillPeak = await fill(servers, sources, writing, result, log);

      const before = await writtenChanges(sources);
      const expected = await writeUntil(sources, cursor, target, Infinity);
      await Promise.all([servers.sourcePool.query("checkpoint"), servers.storePool.query("checkpoint")]);
      log(`last chunk: ${num(expected - before)} changes written while nothing consumed; the worker stores them`);
      const stored = await storeChunk(servers, before, expected, result);
      log(
        `stored in ${stored.ingest.seconds} s: ${num(stored.ingest.rate)}/s end to end, ` +
          `${stored.ingest.streamingRate === null ? "?" : num(stored.ingest.streamingRate)}/s once streaming`,
      );

      const vacuumStart = performance.now();
      await servers.storePool.query("vacuum analyze");
      const vacuumAnalyzeSeconds = Math.round((performance.now() - vacuumStart) / 100) / 10;
      if (!session) {
        session = await openBrowseSession(servers, "scale", log);
        // A fresh `next start` is slower on its first requests of each route: not the trail's doing.
        await session.warmUp(sources.sourceIds);
      }
      const measured = await session.measure(sources.sourceIds, log);
      result.errors.push(...measured.errors.map((e) => `at ${num(expected)}: ${e}`));
      result.steps.push({
        changes: expected,
        ingest: stored.ingest,
        workerPeakRssMb: Math.max(fillPeak, stored.peakMb),
        vacuumAnalyzeSeconds,
        disk: await diskUse(servers),
        queries: measured.queries,
        firstPaint: measured.firstPaint,
      });
    }
  } catch (error) {
    result.errors.push(error instanceof Error ? error.message : String(error));
  } finally {
    await session?.close();
    await sources.close();
  }
  const [first, final] = [result.steps[0], result.steps.at(-1)];
  if (first && final && final !== first) result.growth = growthOf(first, final);
  return result;
}
