import pg from "pg";
import { spawnWorker } from "./processes";
import { STALL_MS } from "./throughput";
import { sleep, storedCount, type BenchServers } from "./servers";
import { provision, registerSource, rowsSelect, teardown } from "./source";

export const LAG_RATE = 2_000;
export const LAG_P99_TARGET_MS = 1_000;
const WRITERS = 32;
const WARM_UP_ROWS = 50;

export type LagResult = {
  targetRate: number;
  achievedRate: number;
  seconds: number;
  changes: number;
  /** Latest a writer started a transaction after its scheduled time. */
  maxScheduleSlipMs: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  /** Median over the last tenth of the run: far above p50 means the worker was falling behind. */
  lastTenthP50Ms: number | null;
  peakRssMb: number | null;
  targetsMet: boolean;
  errors: string[];
};


async function waitForCount(servers: BenchServers, sourceId: string, count: number, timeoutMs: number, isDead: () => string | null): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stored = await storedCount(servers, sourceId);
    if (stored >= count) return;
    const dead = isDead();
    if (dead) throw new Error(dead);
    if (Date.now() > deadline) throw new Error(`timed out with ${stored} of ${count} changes stored`);
    await sleep(200);
  }
}

/**
 * Steady load while the worker runs: single-row transactions committed at a fixed rate by a few
 * writer connections (synchronous commit, as an application would), then the latency of every
 * change from its source commit (`committed_at`, from the COMMIT message) to its row in the
 * store (`created_at`, the store transaction's now()). Both servers share this machine's clock.
 */
export async function runLag(servers: BenchServers, scale: number, log: (line: string) => void): Promise<LagResult> {
  const seconds = Math.max(5, Math.round(30 * scale));
  const changes = LAG_RATE * seconds;
  const result: LagResult = {
    targetRate: LAG_RATE,
    achievedRate: 0,
    seconds,
    changes,
    maxScheduleSlipMs: 0,
    p50Ms: null,
    p99Ms: null,
    maxMs: null,
    lastTenthP50Ms: null,
    peakRssMb: null,
    targetsMet: false,
    errors: [],
  };
  const provisioned = await provision(servers, "lag", 0);
  const sourceId = await registerSource(servers, provisioned);
  const worker = spawnWorker(servers.storeUrl, "lag");
  const dead = () =>
    worker.hasExited()
      ? `the worker exited:\n${worker.logTail()}`
      : worker.rss.idleMs > STALL_MS
        ? `the worker used no CPU for ${STALL_MS / 1000} s and the store is incomplete:\n${worker.logTail()}`
        : null;
  const writers: pg.Client[] = [];
  try {
    // Warm-up (negative ids, left out of the statistics): the worker is connected and storing.
    for (let i = 1; i <= WARM_UP_ROWS; i++) {
      await servers.sourcePool.query(`insert into ${provisioned.table} ${rowsSelect("$1", "$1")}`, [-i]);
    }
    await waitForCount(servers, sourceId, WARM_UP_ROWS, 60_000, dead);

    for (let i = 0; i < WRITERS; i++) {
      const client = new pg.Client({ connectionString: servers.sourceUrl });
      await client.connect();
      writers.push(client);
    }
    log(`writing ${changes.toLocaleString("en-US")} single-row transactions at ${LAG_RATE}/s for ${seconds} s (${WRITERS} connections)`);
    const insert = `insert into ${provisioned.table} ${rowsSelect("$1", "$1")}`;
    let next = 0;
    const start = performance.now();
    await Promise.all(
      writers.map(async (client) => {
        for (;;) {
          const i = next++;
          if (i >= changes) return;
          const due = start + (i * 1000) / LAG_RATE;
          const wait = due - performance.now();
          if (wait > 1) await sleep(wait);
          else result.maxScheduleSlipMs = Math.max(result.maxScheduleSlipMs, -wait);
          await client.query(insert, [i + 1]);
        }
      }),
    );
    const writeSeconds = (performance.now() - start) / 1000;
    result.achievedRate = changes / writeSeconds;
    log(`wrote in ${writeSeconds.toFixed(1)} s (${Math.round(result.achievedRate)} tx/s); waiting for the store`);

    // A worker slower than the writer catches up afterwards: allow it 300 changes/s.
    await waitForCount(servers, sourceId, WARM_UP_ROWS + changes, 60_000 + (changes / 300) * 1000, dead);
    const { rows } = await servers.storePool.query<{ p50: number; p99: number; max: number; last_p50: number }>(
      `with lag as (
         select primary_key::bigint as id, extract(epoch from created_at - committed_at) * 1000 as ms
           from changes where source_id = $1 and primary_key::bigint > 0)
       select percentile_cont(0.5) within group (order by ms) as p50,
              percentile_cont(0.99) within group (order by ms) as p99,
              max(ms)::float8 as max,
              (select percentile_cont(0.5) within group (order by ms) from lag where id > $2) as last_p50
         from lag`,
      [sourceId, Math.floor(changes * 0.9)],
    );
    const row = rows[0];
    if (row) {
      result.p50Ms = Number(row.p50);
      result.p99Ms = Number(row.p99);
      result.maxMs = Number(row.max);
      result.lastTenthP50Ms = Number(row.last_p50);
    }
    log(`lag p50 ${result.p50Ms?.toFixed(1)} ms, p99 ${result.p99Ms?.toFixed(1)} ms, max ${result.maxMs?.toFixed(1)} ms`);
  } catch (error) {
    result.errors.push(error instanceof Error ? error.message : String(error));
    log(`lag run failed: ${result.errors.at(-1)}`);
  } finally {
    await Promise.allSettled(writers.map((client) => client.end()));
    worker.rss.stop();
    result.peakRssMb = worker.rss.peakMb;
    const code = await worker.stop();
    if (code !== 0) result.errors.push(`worker exited with ${code} on SIGTERM:\n${worker.logTail()}`);
    await teardown(servers, provisioned, sourceId).catch((error: unknown) => {
      result.errors.push(`cleanup: ${error instanceof Error ? error.message : String(error)}`);
    });
  }
  // The rate target is part of the test: a writer that could not keep 2k/s measured something else.
  result.targetsMet =
    result.errors.length === 0 &&
    result.p99Ms !== null &&
    result.p99Ms < LAG_P99_TARGET_MS &&
    result.achievedRate >= LAG_RATE * 0.95;
  return result;
}
