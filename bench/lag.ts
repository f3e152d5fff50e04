import pg from "pg";
import { spawnWorker } from "./processes";
import { STALL_MS } from "./throughput";
import { sleep, storedCount, type BenchServers } from "./servers";
import { provision, registerSource, rowsSelect, teardown } from "./source";

export const LAG_RATE = 2_000;
export const LAG_P99_TARGET_MS = 1_000;
const WRITERS = 32;
const WARM_UP_ROWS = 50;
/** How often the watcher asks the store for new changes: the resolution of the lag measured. */
export const LAG_POLL_MS = 10;

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
  /** How often the watcher queried the store. */
  pollMs: number;
  peakRssMb: number | null;
  targetsMet: boolean;
  errors: string[];
};

/**
 * Watches the store as a client of the API would: every LAG_POLL_MS a new query (a new snapshot,
 * like every API request) asks for the source's changes past the last one seen, and each change
 * gets the time from its source commit to the query that first returned it. A change is visible
 * to every query from the moment its store transaction commits, so this is that moment to within
 * one poll interval plus the query's own time: never less than the real lag.
 *
 * "Past the last one seen" is by id: a source's ids follow its commit order and its store
 * transactions commit in order (lib/changes/list.ts reads a source on the same rule), so nothing can
 * appear behind a change already seen; a change that did would never be counted, and the run
 * reports the shortfall.
 */
class VisibilityWatcher {
  /** The workload's row number (the source row's id, its primary key) → lag in ms. */
  readonly lagMs = new Map<number, number>();
  private lastId = "0";
  private stopped = false;
  private loop: Promise<void> | null = null;
  private failure: Error | null = null;

  constructor(
    private readonly client: pg.Client,
    private readonly sourceId: string,
  ) {}

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        await this.poll();
        await sleep(LAG_POLL_MS);
      }
    })().catch((error: unknown) => {
      this.failure = error instanceof Error ? error : new Error(String(error));
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  private async poll(): Promise<void> {
    // clock_timestamp(): read while the query runs, after its snapshot was taken.
    const { rows } = await this.client.query<{ id: string; key: string; ms: string }>(
      `select id::text, primary_key as key, extract(epoch from clock_timestamp() - committed_at) * 1000 as ms
         from changes where source_id = $1 and id > $2 order by id`,
      [this.sourceId, this.lastId],
    );
    for (const row of rows) {
      const key = Number(row.key);
      if (!this.lagMs.has(key)) this.lagMs.set(key, Number(row.ms));
    }
    const last = rows.at(-1);
    if (last) this.lastId = last.id;
  }

  async waitFor(count: number, timeoutMs: number, isDead: () => string | null): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.lagMs.size < count) {
      if (this.failure) throw new Error(`watching the store failed: ${this.failure.message}`);
      const dead = isDead();
      if (dead) throw new Error(dead);
      if (Date.now() > deadline) throw new Error(`timed out with ${this.lagMs.size} of ${count} changes visible`);
      await sleep(200);
    }
  }
}

/** As PostgreSQL's percentile_cont: linear between the two nearest ranks. */
function percentile(sorted: readonly number[], fraction: number): number | null {
  if (sorted.length === 0) return null;
  const position = fraction * (sorted.length - 1);
  const below = sorted[Math.floor(position)] ?? 0;
  const above = sorted[Math.ceil(position)] ?? below;
  return below + (above - below) * (position - Math.floor(position));
}

const ascending = (values: Iterable<number>) => [...values].sort((a, b) => a - b);

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
    pollMs: LAG_POLL_MS,
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
  const watcherClient = new pg.Client({ connectionString: servers.storeUrl });
  const watcher = new VisibilityWatcher(watcherClient, sourceId);
  try {
    await watcherClient.connect();
    watcher.start();
    // Warm-up (negative ids, left out of the statistics): the worker is connected and storing.
    for (let i = 1; i <= WARM_UP_ROWS; i++) {
      await servers.sourcePool.query(`insert into ${provisioned.table} ${rowsSelect("$1", "$1")}`, [-i]);
    }
    await watcher.waitFor(WARM_UP_ROWS, 60_000, dead);

    for (let i = 0; i < WRITERS; i++) {
      const client = new pg.Client({ connectionString: servers.sourceUrl });
      await client.connect();
      writers.push(client);
    }
    log(
      `writing ${changes.toLocaleString("en-US")} single-row transactions ` +
        `at ${LAG_RATE}/s for ${seconds} s (${WRITERS} connections)`,
    );
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
    await watcher.waitFor(WARM_UP_ROWS + changes, 60_000 + (changes / 300) * 1000, dead);
    await watcher.stop();
    const stored = await storedCount(servers, sourceId);
    if (stored !== WARM_UP_ROWS + changes)
      result.errors.push(`${stored} changes stored, ${WARM_UP_ROWS + changes} written`);
    const measured = [...watcher.lagMs].filter(([key]) => key > 0);
    const all = ascending(measured.map(([, ms]) => ms));
    result.p50Ms = percentile(all, 0.5);
    result.p99Ms = percentile(all, 0.99);
    result.maxMs = all.at(-1) ?? null;
    result.lastTenthP50Ms = percentile(
      ascending(measured.filter(([key]) => key > changes * 0.9).map(([, ms]) => ms)),
      0.5,
    );
    log(
      `lag p50 ${result.p50Ms?.toFixed(1)} ms, p99 ${result.p99Ms?.toFixed(1)} ms, max ${result.maxMs?.toFixed(1)} ms`,
    );
  } catch (error) {
    result.errors.push(error instanceof Error ? error.message : String(error));
    log(`lag run failed: ${result.errors.at(-1)}`);
  } finally {
    await watcher.stop().catch(() => undefined);
    await Promise.allSettled([...writers, watcherClient].map((client) => client.end()));
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
