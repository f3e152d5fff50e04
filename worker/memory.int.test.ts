import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServers, trackTables, type Servers } from "../test/support/servers";
import { waitFor } from "../test/support/wait";
import { killWorkerProcesses, spawnWorkerProcess } from "../test/support/worker";

const ROWS = 100_000;
// Two 1 KiB text columns: about 2.1 KB of row JSON per change, ~210 MB for the transaction.
const WIDTH = 32; // md5 (32 chars) repeated WIDTH times per column
/**
 * Peak RSS (VmHWM) allowed for the worker process. Measured on a 2-core machine for this
 * transaction: the worker holding a transaction whole until its commit (before batching)
 * peaked at ~675 MB; writing it in batches of at most 5000 rows / 4 MB (here ~2000 rows, by size)
 * peaks at ~200-230 MB, of which ~115 MB is the idle process (node, tsx, pg, pino). The bound
 * sits between the two.
 */
const PEAK_RSS_BOUND_MB = 350;

let servers: Servers;
let sourceId: string;

function peakRssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  if (!match?.[1]) throw new Error("no VmHWM in /proc status");
  return Number(match[1]) / 1024;
}

beforeAll(async () => {
  servers = await startServers();
  await servers.sourceQuery("create table wide (id int primary key, a text, b text, n numeric, at timestamptz)");
  sourceId = await trackTables(servers, { tables: ["wide"], publication: "memory_pub", slot: "retrace_memory" });
});

afterAll(async () => {
  await killWorkerProcesses();
  await servers?.stop();
});

describe("memory per source transaction", () => {
  it("stays bounded while a 100k-row, 210 MB transaction streams through the worker process", async () => {
    const worker = spawnWorkerProcess({ DATABASE_URL: servers.storeUrl, WORKER_METRICS_PORT: "0" });
    const pid = worker.child.pid;
    if (pid === undefined) throw new Error("worker did not start");
    await waitFor(
      "streaming",
      async () => {
        const [row] = await servers.storeQuery<{ status: string }>("select status from sources where id = $1", [
          sourceId,
        ]);
        return row?.status === "streaming";
      },
      { timeoutMs: 30_000 },
    );

    await servers.sourceQuery(
      `insert into wide
       select g, repeat(md5(g::text), $2), repeat(md5((-g)::text), $2), g * 1.5, now()
         from generate_series(1, $1::int) g`,
      [ROWS, WIDTH],
    );
    const stored = async () => {
      const [row] = await servers.storeQuery<{ n: number }>(
        "select count(*)::int as n from changes where source_id = $1",
        [sourceId],
      );
      return row?.n ?? 0;
    };
    await waitFor("transaction stored", async () => (await stored()) >= ROWS, { timeoutMs: 90_000 }).catch(
      (error: unknown) => {
        throw new Error(`${String(error)}\n--- worker output ---\n${worker.output()}`);
      },
    );
    const peak = peakRssMb(pid);

    const [check] = await servers.storeQuery<{ n: number; seqs: number; lsns: number; width: number }>(
      `select count(*)::int as n, count(distinct seq)::int as seqs, count(distinct commit_lsn)::int as lsns,
              min(length(after->>'a') + length(after->>'b'))::int as width
         from changes where source_id = $1`,
      [sourceId],
    );
    expect(check).toEqual({ n: ROWS, seqs: ROWS, lsns: 1, width: 2 * 32 * WIDTH });
    expect(peak, `worker peak RSS ${peak.toFixed(0)} MB`).toBeLessThan(PEAK_RSS_BOUND_MB);

    worker.child.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
  });
});
