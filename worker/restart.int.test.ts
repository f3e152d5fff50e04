import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseLsn } from "../lib/replication/lsn";
import { confirmedFlush, startServers, trackTables, type Servers } from "../test/support/servers";
import { waitFor } from "../test/support/wait";
import { killWorkerProcesses, spawnWorkerProcess, type WorkerProcess } from "../test/support/worker";

const SLOT = "retrace_restart";
const TRUTH_SLOT = "truth"; // test_decoding: what the source really committed, with commit end LSNs
const TRANSACTIONS = 300;
const ROWS_PER_TRANSACTION = 10;

let servers: Servers;
let sourceId: string;

function spawnWorker(): WorkerProcess {
  return spawnWorkerProcess({ DATABASE_URL: servers.storeUrl });
}

async function storedCount(): Promise<number> {
  const [row] = await servers.storeQuery<{ n: number }>("select count(*)::int as n from changes where source_id = $1", [
    sourceId,
  ]);
  return row?.n ?? 0;
}

beforeAll(async () => {
  servers = await startServers();
  await servers.sourceQuery("create table events (id int primary key, payload text)");
  sourceId = await trackTables(servers, { tables: ["events"], publication: "restart_pub", slot: SLOT, viaRoot: true });
  await servers.sourceQuery("select pg_create_logical_replication_slot($1, 'test_decoding')", [TRUTH_SLOT]);
});

afterAll(async () => {
  await killWorkerProcesses();
  await servers?.stop();
});

describe("worker killed mid-stream", () => {
  it("ends with exactly the source's changes, and never confirms past what is stored", async () => {
    const first = spawnWorker();
    await waitFor("first worker streaming", async () => {
      const [row] = await servers.storeQuery<{ status: string }>("select status from sources where id = $1", [
        sourceId,
      ]);
      return row?.status === "streaming";
    });

    // Sampler: the slot's confirmed position, then what the store holds. Acknowledgements must
    // only ever follow store commits, so every transaction ending at or before a sample's
    // confirmed position must be in that sample's stored set.
    const samples: Array<{ confirmed: bigint; storedXids: Set<string> }> = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const confirmed = await confirmedFlush(servers, SLOT);
        const rows = await servers.storeQuery<{ xid: string }>(
          "select distinct transaction_id::text as xid from changes where source_id = $1",
          [sourceId],
        );
        samples.push({ confirmed, storedXids: new Set(rows.map((r) => r.xid)) });
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
    })();

    const writer = (async () => {
      const client = new pg.Client({ connectionString: servers.sourceUrl });
      await client.connect();
      for (let t = 0; t < TRANSACTIONS; t++) {
        const from = t * ROWS_PER_TRANSACTION + 1;
        await client.query("insert into events select i, 'payload ' || i from generate_series($1::int, $2::int) i", [
          from,
          from + ROWS_PER_TRANSACTION - 1,
        ]);
        await new Promise((resolve) => setTimeout(resolve, 8));
      }
      await client.end();
    })();

    const total = TRANSACTIONS * ROWS_PER_TRANSACTION;
    let second: WorkerProcess | undefined;
    try {
      await waitFor("first worker storing", async () => (await storedCount()) >= 300, { timeoutMs: 30_000 });
      first.child.kill("SIGKILL");
      await first.exited;
      const storedAtKill = await storedCount();
      const restarted = spawnWorker();
      second = restarted;
      await writer;
      expect(storedAtKill, "the kill must land mid-stream").toBeLessThan(total);

      await waitFor("all changes stored", async () => (await storedCount()) >= total, { timeoutMs: 30_000 }).catch(
        (error: unknown) => {
          throw new Error(`${String(error)}\n--- second worker output ---\n${restarted.output()}`);
        },
      );
      const [{ lsn: walEnd } = { lsn: "0/0" }] = await servers.sourceQuery<{ lsn: string }>(
        "select pg_current_wal_lsn()::text as lsn",
      );
      await waitFor("slot confirmed to the end", async () => (await confirmedFlush(servers, SLOT)) >= parseLsn(walEnd));
    } finally {
      sampling = false;
      await Promise.allSettled([sampler, writer]);
    }

    // Exactly the source's changes: every id once, as CREATE, nothing else.
    const [summary] = await servers.storeQuery<{
      n: number;
      distinct_pk: number;
      creates: number;
      min_pk: number;
      max_pk: number;
    }>(
      `select count(*)::int as n, count(distinct primary_key)::int as distinct_pk,
              count(*) filter (where operation = 'CREATE')::int as creates,
              min(primary_key::int) as min_pk, max(primary_key::int) as max_pk
         from changes where source_id = $1`,
      [sourceId],
    );
    expect(summary).toEqual({ n: total, distinct_pk: total, creates: total, min_pk: 1, max_pk: total });
    const [mismatch] = await servers.storeQuery<{ n: number }>(
      "select count(*)::int as n from changes " +
        "where source_id = $1 and (after->>'id' <> primary_key or after->>'payload' <> 'payload ' || primary_key)",
      [sourceId],
    );
    expect(mismatch?.n).toBe(0);

    // Per source transaction: its rows, in order, under its xid.
    const truth = await servers.sourceQuery<{ lsn: string; xid: string; data: string }>(
      "select lsn::text, xid::text, data from pg_logical_slot_peek_changes($1, null, null)",
      [TRUTH_SLOT],
    );
    const commitEnd = new Map<string, bigint>();
    const touched = new Set<string>();
    for (const row of truth) {
      if (row.data.startsWith("table public.events:")) touched.add(row.xid);
      if (row.data.startsWith("COMMIT")) commitEnd.set(row.xid, parseLsn(row.lsn));
    }
    expect(touched.size).toBe(TRANSACTIONS);
    const perTx = await servers.storeQuery<{ xid: string; n: number; seqs: number[]; lsns: number }>(
      `select transaction_id::text as xid, count(*)::int as n, array_agg(seq order by seq) as seqs,
              count(distinct commit_lsn)::int as lsns
         from changes where source_id = $1 group by transaction_id`,
      [sourceId],
    );
    expect(new Set(perTx.map((t) => t.xid))).toEqual(touched);
    for (const tx of perTx) {
      expect(tx).toEqual({
        xid: tx.xid,
        n: ROWS_PER_TRANSACTION,
        seqs: [...Array(ROWS_PER_TRANSACTION).keys()],
        lsns: 1,
      });
    }

    // The slot never ran ahead of the store.
    expect(samples.length).toBeGreaterThan(10);
    let sawProgress = false;
    for (const sample of samples) {
      for (const xid of touched) {
        const end = commitEnd.get(xid);
        if (end !== undefined && end <= sample.confirmed) {
          expect(sample.storedXids.has(xid), `xid ${xid} confirmed at ${sample.confirmed} before it was stored`).toBe(
            true,
          );
          sawProgress = true;
        }
      }
    }
    expect(sawProgress).toBe(true);

    // SIGTERM drains and exits cleanly.
    if (!second) throw new Error("second worker never started");
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  });
});
