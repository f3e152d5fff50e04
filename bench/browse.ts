import { addHistoricPartitions } from "./browse-partitions";
import { generateBrowseWorkload, waitUntilStored } from "./browse-workload";
import { openBrowseSession, type BrowseTiming, type FirstPaint } from "./browse-web";
import { sealAll } from "../lib/seals/seal";
import { spawnWorker } from "./processes";
import { BENCH_SECRET } from "./source";
import type { BenchServers } from "./servers";

export type { BrowseTiming } from "./browse-web";

/** The browse workload at scale 1: 10 million changes. `--scale` sizes it (0.1: 1 million). */
export const BROWSE_CHANGES = 10_000_000;
export const BROWSE_P95_TARGET_MS = 50;
export const FIRST_PAINT_TARGET_MS = 1000;

export type BrowseResult = {
  changes: number;
  transactions: number;
  generateSeconds: number;
  ingest: { seconds: number; rate: number } | null;
  /**
   * The production database's changes sealed after ingest, at full duty (the worker's sealer does it at a fifth of
   * its time, beside ingest): time travel's page of a big table walks the sealed keys (lib/changes/as-of-walk.ts).
   */
  sealing: { changes: number; seconds: number; rate: number } | null;
  queries: BrowseTiming[];
  /** From navigating to /changes until the first change row is painted, in Chromium. */
  firstPaint: FirstPaint | null;
  /**
   * The same queries again after each source was given the empty partitions of a trail years old
   * (browse-partitions.ts): what hundreds of partitions cost the reads. Null when not measured.
   */
  manyPartitions: { partitions: number; queries: BrowseTiming[]; firstPaint: FirstPaint | null } | null;
  targetsMet: boolean;
  errors: string[];
};

/**
 * The browse workload: ~10M × scale changes written at three source databases (three environments, the same 20
 * tables of skewed sizes, ~5% deletes, one TRUNCATE, a context on a third of the transactions), captured by the
 * real worker process, then every filter alone and combined timed through the real web app's HTTP API, and the
 * first paint of /changes in Chromium.
 */
export async function runBrowse(
  servers: BenchServers,
  scale: number,
  log: (line: string) => void,
): Promise<BrowseResult> {
  const wanted = Math.round(BROWSE_CHANGES * scale);
  const result: BrowseResult = {
    changes: 0,
    transactions: 0,
    generateSeconds: 0,
    ingest: null,
    sealing: null,
    queries: [],
    firstPaint: null,
    manyPartitions: null,
    targetsMet: false,
    errors: [],
  };
  log(`generating ~${wanted.toLocaleString("en-US")} changes in three source databases`);
  const workload = await generateBrowseWorkload(servers, wanted, log);
  Object.assign(result, {
    changes: workload.changes,
    transactions: workload.transactions,
    generateSeconds: Math.round(workload.generateSeconds),
  });
  log(
    `${workload.changes.toLocaleString("en-US")} changes written in ${result.generateSeconds} s; ` +
      "the worker stores them",
  );
  const worker = spawnWorker(servers.storeUrl, "browse");
  const began = performance.now();
  try {
    await waitUntilStored(servers, workload.changes, 120_000);
    const seconds = (performance.now() - began) / 1000;
    result.ingest = { seconds: Math.round(seconds), rate: Math.round(workload.changes / seconds) };
    log(
      `stored in ${result.ingest.seconds} s (${result.ingest.rate.toLocaleString("en-US")}/s, three sources at once)`,
    );
  } finally {
    await worker.stop();
  }
  const production = workload.sourceIds[0] ?? "";
  const sealStart = performance.now();
  const unsealed = await sealAll(servers.storePool, BENCH_SECRET, { only: production });
  const sealSeconds = (performance.now() - sealStart) / 1000;
  result.sealing = { changes: unsealed, seconds: Math.round(sealSeconds), rate: Math.round(unsealed / sealSeconds) };
  log(
    `sealed production's ${unsealed.toLocaleString("en-US")} unsealed changes in ${result.sealing.seconds} s ` +
      `(${result.sealing.rate.toLocaleString("en-US")}/s)`,
  );
  await servers.storePool.query("vacuum analyze");

  const session = await openBrowseSession(servers, "browse", log);
  try {
    // Every query a few times first, as the scale workload does: the first queries timed are not to pay for a web
    // server just started (its code not yet optimized by V8, its store connections not yet open).
    await session.warmUp(workload.sourceIds);
    const measured = await session.measure(workload.sourceIds, log);
    result.queries = measured.queries;
    result.firstPaint = measured.firstPaint;
    result.errors.push(...measured.errors);
    log("adding the empty partitions of a trail years old to each source");
    const partitions = await addHistoricPartitions(servers.storePool, workload.sourceIds);
    log(`${partitions} partitions; the queries again`);
    const again = await session.measure(workload.sourceIds, log);
    result.manyPartitions = { partitions, queries: again.queries, firstPaint: again.firstPaint };
    result.errors.push(...again.errors.map((error) => `with ${partitions} partitions: ${error}`));
  } finally {
    await session.close();
  }
  result.targetsMet =
    result.errors.length === 0 &&
    [...result.queries, ...(result.manyPartitions?.queries ?? [])].every((q) => q.p95Ms <= BROWSE_P95_TARGET_MS) &&
    (result.firstPaint?.maxMs ?? Infinity) <= FIRST_PAINT_TARGET_MS;
  return result;
}
