/**
 * `npx tsx bench/profile-ingest.ts [--transactions <n>] [--workload a|b|c] [--cpu-prof]
 *   [--store-only [--rows <per store transaction>] [--store-sql "<sql>;;<sql>"]
 *                 [--context none|shared|unique]]`:
 * where the worker's time goes for a throughput workload (default A, 1000-row transactions), at
 * a small scale.
 *
 * On its own throwaway store and source servers: generates the workload at the scale of `n`
 * 1000-row transactions (n × 1000 changes for A and C, n × 200 single-row transactions for B), then runs
 * the real worker process (optionally under `--cpu-prof`, profile written to bench/work/prof) until
 * the store holds them all, and reports the CPU used meanwhile by the worker, the store's
 * backends and the source's walsender. With `--store-only` it skips replication and times
 * StoreTransaction alone on rows built like the worker builds them (the store side's ceiling
 * for the current insert shape; `--rows` per store transaction, 1000 by default, 5000 is the
 * worker's batch under load; `--store-sql` runs statements on the store first, e.g.
 * `drop index changes_primary_key` to price one index; `--context` gives every row an application context:
 * `shared` one of 1000 users, `unique` also a request id per store transaction, as an app that sends one does).
 * Both modes print CPU seconds per million changes per process: on a shared machine the figure to compare between
 * versions, where wall time says little. WORKER_NODE_ARGS adds node flags to the worker process (e.g.
 * "--max-semi-space-size=64" to try GC settings).
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { StoreTransaction } from "../lib/changes/write";
import { buildWorker, WORKER_NODE_FLAGS } from "../lib/cli/processes";
import type { ChangeRow } from "../lib/replication/change-row";
import { ROOT, WORK_DIR } from "./processes";
import { startBenchServers, type BenchServers } from "./servers";
import { BENCH_SECRET, currentWalLsn, provision, registerSource } from "./source";
import { throughputWorkloads } from "./workloads";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** utime + stime (+ reaped children's) of a process, in clock ticks; 0 once it is gone. */
function cpuTicks(pid: number, withChildren = false): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const own = Number(fields[11]) + Number(fields[12]);
    return withChildren ? own + Number(fields[13]) + Number(fields[14]) : own;
  } catch {
    return 0;
  }
}

function parentOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

/** CPU ticks of a postmaster's children by process title ("postgres: walwriter", ...). */
function serverProcesses(postmaster: number): Map<string, number> {
  const byTitle = new Map<string, number>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (parentOf(Number(entry)) !== postmaster) continue;
      const title = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").replace(/\0/g, " ").trim();
      byTitle.set(`${entry} ${title}`, cpuTicks(Number(entry)));
    } catch {
      // exited meanwhile
    }
  }
  return byTitle;
}

/** CPU ticks of a postmaster and every process it started (live ones, plus reaped ones). */
function serverTicks(postmaster: number): number {
  let total = cpuTicks(postmaster, true);
  for (const ticks of serverProcesses(postmaster).values()) total += ticks;
  return total;
}

/** The processes of a server that used more than 0.1 s of CPU between two snapshots. */
function busiest(
  before: Map<string, number>,
  after: Map<string, number>,
  names: Map<number, string> = new Map(),
): string {
  const used: string[] = [];
  for (const [process, ticks] of after) {
    const delta = (ticks - (before.get(process) ?? 0)) * TICK_SECONDS;
    const name = names.get(Number(process.split(" ")[0]));
    if (delta > 0.1)
      used.push(
        `${delta.toFixed(2)} s ${process.replace(/^\d+ postgres: /, "").replace(/ \S+\(\d+\)/, "")}` +
          (name ? ` (${name})` : ""),
      );
  }
  return used.join("; ");
}

/** Backends' application names by pid (the worker names its pools: retrace, retrace-sealer, ...). */
async function applicationNames(pool: pg.Pool): Promise<Map<number, string>> {
  const { rows } = await pool.query<{ pid: number; name: string }>(
    "select pid, application_name as name from pg_stat_activity where application_name <> ''",
  );
  return new Map(rows.map((row) => [row.pid, row.name]));
}

async function postmasterOf(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ pid: number }>("select pg_backend_pid() as pid");
  const pid = rows[0]?.pid;
  if (pid === undefined) throw new Error("no backend pid");
  return parentOf(pid);
}

const TICK_SECONDS = 0.01;

async function runWorker(
  servers: BenchServers,
  transactions: number,
  workloadName: string,
  cpuProf: boolean,
): Promise<void> {
  const workload = throughputWorkloads(transactions / 1000).find((w) => w.name === workloadName);
  if (!workload) throw new Error(`no workload ${workloadName}`);
  const provisioned = await provision(servers, "profile", 0);
  const generator = new pg.Client({ connectionString: servers.sourceUrl });
  await generator.connect();
  const lastCommitBefore = await workload.generate(generator, provisioned.table).finally(() => generator.end());
  console.log(`generated ${workload.changes} changes; WAL end ${await currentWalLsn(servers.sourcePool)}`);
  await Promise.all([servers.sourcePool.query("checkpoint"), servers.storePool.query("checkpoint")]);
  const sourceId = await registerSource(servers, provisioned);

  const storePostmaster = await postmasterOf(servers.storePool);
  const sourcePostmaster = await postmasterOf(servers.sourcePool);
  const profDir = path.join(WORK_DIR, "prof");
  fs.mkdirSync(profDir, { recursive: true });
  const args = [
    ...WORKER_NODE_FLAGS,
    ...(process.env.WORKER_NODE_ARGS?.split(" ").filter(Boolean) ?? []),
    ...(cpuProf ? ["--cpu-prof", `--cpu-prof-dir=${profDir}`] : []),
    await buildWorker(),
  ];
  const logFile = fs.openSync(path.join(WORK_DIR, "worker-profile.log"), "w");
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: servers.storeUrl,
      RETRACE_SECRET: BENCH_SECRET,
      LOG_LEVEL: process.env.WORKER_LOG_LEVEL ?? "warn",
      WORKER_METRICS_PORT: "0",
      // The bench's sources are servers on this machine.
      RETRACE_ALLOW_LOCAL_SOURCES: "true",
    },
    stdio: ["ignore", logFile, logFile],
  });
  fs.closeSync(logFile);
  const pid = child.pid;
  if (pid === undefined) throw new Error("could not start the worker");
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const spawned = performance.now();
  const spawnedAt = Date.now();
  process.once("exit", () => console.log(`spawned at ${spawnedAt}`));
  let streamingAt: number | null = null;
  let before = { worker: 0, store: 0, source: 0 };
  let storeBefore = new Map<string, number>();
  let sourceBefore = new Map<string, number>();
  for (;;) {
    const { rows } = await servers.storePool.query<{ done: boolean; status: string }>(
      "select coalesce(checkpoint_lsn >= $2::pg_lsn, false) as done, status::text from sources where id = $1",
      [sourceId, lastCommitBefore],
    );
    if (streamingAt === null && rows[0]?.status === "streaming") {
      streamingAt = performance.now();
      before = { worker: cpuTicks(pid), store: serverTicks(storePostmaster), source: serverTicks(sourcePostmaster) };
      storeBefore = serverProcesses(storePostmaster);
      sourceBefore = serverProcesses(sourcePostmaster);
    }
    if (rows[0]?.done) break;
    if (child.exitCode !== null) throw new Error("worker exited early (bench/work/worker-profile.log)");
    await sleep(20);
  }
  const done = performance.now();
  const after = { worker: cpuTicks(pid), store: serverTicks(storePostmaster), source: serverTicks(sourcePostmaster) };
  const storeAfter = serverProcesses(storePostmaster);
  const sourceAfter = serverProcesses(sourcePostmaster);
  const storeNames = await applicationNames(servers.storePool);
  const sourceNames = await applicationNames(servers.sourcePool);
  child.kill("SIGTERM");
  await exited;

  const streamSeconds = (done - (streamingAt ?? spawned)) / 1000;
  const cpu = (key: keyof typeof before) => ((after[key] - before[key]) * TICK_SECONDS).toFixed(2);
  console.log(
    `total ${((done - spawned) / 1000).toFixed(2)} s ` +
      `(startup ${(((streamingAt ?? spawned) - spawned) / 1000).toFixed(2)} s)`,
  );
  console.log(`streaming ${streamSeconds.toFixed(2)} s: ${Math.round(workload.changes / streamSeconds)} changes/s`);
  console.log(`CPU while streaming: worker ${cpu("worker")} s, store ${cpu("store")} s, source ${cpu("source")} s`);
  // The figure to compare between versions on a shared machine: wall time there says little.
  const perMillion = (key: keyof typeof before) =>
    (((after[key] - before[key]) * TICK_SECONDS * 1_000_000) / workload.changes).toFixed(2);
  console.log(
    `CPU s per million changes: worker ${perMillion("worker")}, store ${perMillion("store")}, ` +
      `source ${perMillion("source")}`,
  );
  console.log(`store processes: ${busiest(storeBefore, storeAfter, storeNames)}`);
  console.log(`source processes: ${busiest(sourceBefore, sourceAfter, sourceNames)}`);
  if (cpuProf) console.log(`CPU profile in ${profDir}`);
}

type ContextMode = "none" | "shared" | "unique";

/** The context text of the rows of store transaction `t`. */
function contextOf(mode: ContextMode, t: number): string {
  if (mode === "none") return "{}";
  const shared = `"user_id":${t % 1000},"endpoint":"POST /orders"`;
  return mode === "shared" ? `{${shared}}` : `{${shared},"request_id":"req-${t.toString(16).padStart(12, "0")}"}`;
}

/** Rows like the worker builds for workload A's table. */
function sampleRows(commitLsn: string, count: number, offset: number, context = "{}"): ChangeRow[] {
  const committedAt = new Date().toISOString();
  const rows: ChangeRow[] = [];
  for (let i = 0; i < count; i++) {
    const id = offset + i;
    rows.push({
      environment: "benchmark",
      database: "app",
      schema: "public",
      table: "bench_profile",
      primaryKey: String(id),
      operation: "CREATE",
      before: null,
      after:
        `{"id":${id},"account_id":${id % 1000},"amount":${(id % 100000) / 100},"status":"paid",` +
        `"note":"${"0123456789abcdef".repeat(2)}","updated_at":"2026-11-22 22:00:00.123456+00"}`,
      changedFields: null,
      unavailableFields: [],
      beforeJsonNullFields: null,
      afterJsonNullFields: null,
      partitionSchema: null,
      partitionTable: null,
      bucket: "",
      context,
      transactionId: "1234",
      commitLsn,
      seq: i,
      committedAt,
      queuedAt: committedAt,
    });
  }
  return rows;
}

async function runStoreOnly(
  servers: BenchServers,
  transactions: number,
  perTransaction: number,
  storeSql: string[],
  contexts: ContextMode,
): Promise<void> {
  const provisioned = await provision(servers, "profile_store", 0);
  const sourceId = await registerSource(servers, provisioned);
  const storePostmaster = await postmasterOf(servers.storePool);
  for (const statement of storeSql) await servers.storePool.query(statement);
  const pool = new pg.Pool({ connectionString: servers.storeUrl, max: 2 });
  const rowCount = transactions * perTransaction;
  try {
    const batches = Array.from({ length: transactions }, (_, t) =>
      sampleRows(
        `${Math.floor((t + 1) / 256)
          .toString(16)
          .toUpperCase()}/${((t + 1) % 256).toString(16).toUpperCase()}000000`,
        perTransaction,
        t * perTransaction,
        contextOf(contexts, t),
      ),
    );
    const storeBefore = serverTicks(storePostmaster);
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    for (const rows of batches) {
      const first = rows[0];
      if (!first) continue;
      const tx = new StoreTransaction(pool, sourceId);
      await tx.send(rows);
      await tx.commit(first.commitLsn, first.committedAt);
    }
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    console.log(`store only: ${rowCount} rows in ${seconds.toFixed(2)} s: ${Math.round(rowCount / seconds)} rows/s`);
    const nodeSeconds = (cpu.user + cpu.system) / 1e6;
    const storeSeconds = (serverTicks(storePostmaster) - storeBefore) * TICK_SECONDS;
    console.log(`CPU: node ${nodeSeconds.toFixed(2)} s, store ${storeSeconds.toFixed(2)} s`);
    console.log(
      `CPU s per million changes: node ${((nodeSeconds * 1e6) / rowCount).toFixed(2)}, ` +
        `store ${((storeSeconds * 1e6) / rowCount).toFixed(2)}`,
    );
  } finally {
    await pool.end();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      transactions: { type: "string", default: "20" },
      "cpu-prof": { type: "boolean", default: false },
      "store-only": { type: "boolean", default: false },
      workload: { type: "string", default: "a" },
      rows: { type: "string", default: "1000" },
      "store-sql": { type: "string", default: "" },
      context: { type: "string", default: "none" },
    },
  });
  const transactions = Number(values.transactions);
  if (!Number.isInteger(transactions) || transactions < 1) throw new Error("--transactions must be a positive integer");
  const rows = Number(values.rows);
  if (!Number.isInteger(rows) || rows < 1) throw new Error("--rows must be a positive integer");
  const storeSql = values["store-sql"]
    .split(";;")
    .map((statement) => statement.trim())
    .filter(Boolean);
  const contexts = values.context as ContextMode;
  if (!["none", "shared", "unique"].includes(contexts)) throw new Error("--context takes none, shared or unique");
  const servers = await startBenchServers();
  try {
    if (values["store-only"]) await runStoreOnly(servers, transactions, rows, storeSql, contexts);
    else await runWorker(servers, transactions, values.workload, values["cpu-prof"]);
  } finally {
    await servers.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
