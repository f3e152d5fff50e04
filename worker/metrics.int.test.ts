import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../test/support/postgres";
import { startServers, trackTables, type Servers } from "../test/support/servers";
import { waitFor } from "../test/support/wait";
import { killWorkerProcesses, spawnWorkerProcess, type WorkerProcess } from "../test/support/worker";

let servers: Servers;
let sourceId: string;
let worker: WorkerProcess | undefined;
let base = "";

beforeAll(async () => {
  servers = await startServers();
  await servers.sourceQuery("create table items (id int primary key, name text)");
  sourceId = await trackTables(servers, { tables: ["items"], publication: "metrics_pub", slot: "retrace_metrics" });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  worker = spawnWorkerProcess({
    DATABASE_URL: servers.storeUrl,
    WORKER_METRICS_PORT: String(port),
    RETRACE_HEARTBEAT_SECONDS: "0.5",
  });
});

afterAll(async () => {
  await killWorkerProcesses();
  await servers?.stop();
});

/** The value of one sample in a Prometheus text exposition (undefined: no such sample). */
function sample(exposition: string, name: string, labels = ""): number | undefined {
  for (const line of exposition.split("\n")) {
    if (line.startsWith(`${name}${labels} `)) return Number(line.slice(name.length + labels.length + 1));
  }
  return undefined;
}

async function scrape(): Promise<string> {
  const response = await fetch(`${base}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

describe("worker process metrics", () => {
  it("serves /healthz and /metrics that count exactly what was written", async () => {
    await waitFor(
      "streaming",
      async () => {
        const [row] = await servers.storeQuery<{ status: string }>("select status from sources where id = $1", [
          sourceId,
        ]);
        return row?.status === "streaming";
      },
      { timeoutMs: 30_000 },
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n--- worker output ---\n${worker?.output()}`);
    });
    const health = await fetch(`${base}/healthz`);
    expect([health.status, await health.json()]).toEqual([200, { status: "ok" }]);
    expect((await fetch(`${base}/nothing`)).status).toBe(404);

    // Three source transactions: 1 row, 10 rows, and 1500 rows (two batches of at most 1000).
    await servers.sourceQuery("insert into items values (0, 'one')");
    await servers.sourceQuery("insert into items select g, 'ten' from generate_series(1, 10) g");
    await servers.sourceQuery("insert into items select g, 'many' from generate_series(11, 1510) g");
    await waitFor("changes stored", async () => {
      const [row] = await servers.storeQuery<{ n: number }>(
        "select count(*)::int as n from changes where source_id = $1",
        [sourceId],
      );
      return row?.n === 1511;
    });

    const label = `{source="${sourceId}"}`;
    const text = await scrape();
    expect(sample(text, "retrace_changes_written_total", label)).toBe(1511);
    expect(sample(text, "retrace_transactions_total", label)).toBe(3);
    // Store writes: the 1500-row transaction needs two at least; the small ones may share theirs
    // with each other or with its first batch (group commit), so at most four.
    const batches = sample(text, "retrace_batches_total", label);
    expect(batches).toBeGreaterThanOrEqual(2);
    expect(batches).toBeLessThanOrEqual(4);
    expect(sample(text, "retrace_errors_total", label)).toBe(0);
    expect(sample(text, "retrace_sources_leased")).toBe(1);
    expect(sample(text, "process_resident_memory_bytes")).toBeGreaterThan(0);
    // Lag is measured every heartbeat (0.5 s here) and the slot keeps up.
    const lag = await waitFor("lag gauges", async () => {
      const current = await scrape();
      const bytes = sample(current, "retrace_lag_bytes", label);
      const seconds = sample(current, "retrace_lag_seconds", label);
      return bytes !== undefined && bytes < 1024 * 1024 && seconds === 0 && { bytes, seconds };
    });
    expect(lag.seconds).toBe(0);

    if (!worker) throw new Error("no worker");
    worker.child.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
  });
});
