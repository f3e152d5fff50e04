import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connectStore } from "../lib/db/client";
import { parseLsn } from "../lib/replication/lsn";
import { getSource } from "../lib/sources/queries";
import { confirmedFlush, startServers, trackTables, type Servers } from "../test/support/servers";
import { waitFor } from "../test/support/wait";
import { startTestWorker } from "../test/support/worker";
import { HEARTBEAT_PREFIX } from "./source-health";
import type { Worker } from "./worker";

const SLOT = "retrace_heartbeat";
// test_decoding in the tracked database: shows what went through that database's WAL.
const TRUTH_SLOT = "heartbeat_truth";
const MB = 1024 * 1024;

let servers: Servers;
let busy: pg.Client;
let sourceId: string;
let worker: Worker | undefined;

beforeAll(async () => {
  servers = await startServers();
  await servers.sourceQuery("create table items (id int primary key, name text)");
  sourceId = await trackTables(servers, { tables: ["items"], publication: "heartbeat_pub", slot: SLOT });
  await servers.sourceQuery("select pg_create_logical_replication_slot($1, 'test_decoding')", [TRUTH_SLOT]);
  // Another database on the same server: its WAL is the source server's WAL too.
  busy = new pg.Client({ connectionString: await servers.source.createDatabase("busy") });
  await busy.connect();
  await busy.query("create table filler (id int, pad text)");
});

afterEach(async () => {
  await worker?.stop();
  worker = undefined;
});

afterAll(async () => {
  await busy?.end();
  await servers?.stop();
});

function start(heartbeatIntervalMs: number): Worker {
  return startTestWorker(servers, { heartbeatIntervalMs });
}

async function walLsn(): Promise<bigint> {
  const [row] = await servers.sourceQuery<{ lsn: string }>("select pg_current_wal_lsn()::text as lsn");
  return parseLsn(row?.lsn ?? "0/0");
}

/** Source WAL the tracked slot still holds past its confirmed position. */
async function slotLag(): Promise<number> {
  const [row] = await servers.sourceQuery<{ lag: string }>(
    "select pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::text as lag " +
      "from pg_replication_slots where slot_name = $1",
    [SLOT],
  );
  return Number(row?.lag);
}

/** LSNs of the heartbeat messages written into the tracked database so far. */
async function heartbeats(): Promise<bigint[]> {
  const rows = await servers.sourceQuery<{ lsn: string }>(
    "select lsn::text from pg_logical_slot_peek_changes($1, null, null) where data like $2",
    [TRUTH_SLOT, `message: transactional: 0 prefix: ${HEARTBEAT_PREFIX},%`],
  );
  return rows.map((row) => parseLsn(row.lsn));
}

async function streaming(): Promise<void> {
  await waitFor("streaming", async () => {
    const [row] = await servers.storeQuery<{ status: string }>("select status from sources where id = $1", [sourceId]);
    return row?.status === "streaming";
  });
}

/** Writes about 20 MB of WAL in the other database; the tracked one stays idle. */
async function writeElsewhere(): Promise<number> {
  const from = await walLsn();
  for (let i = 0; i < 10; i++)
    await busy.query("insert into filler select g, repeat('x', 1000) from generate_series(1, 2000) g");
  return Number((await walLsn()) - from);
}

describe("an idle source on a busy server", () => {
  it("keeps its slot at the WAL end with heartbeats, and records the lag", async () => {
    worker = start(300);
    await streaming();
    const written = await writeElsewhere();
    expect(written, "the other database must write enough WAL for retention to show").toBeGreaterThan(20 * MB);

    await waitFor("slot caught up", async () => (await slotLag()) < MB, { timeoutMs: 10_000 });
    // It stays there: sampled over a few heartbeats, never more than a heartbeat's worth behind.
    for (let i = 0; i < 5; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await slotLag()).toBeLessThan(MB);
    }

    // The heartbeats went through the tracked database's WAL, and the slot was confirmed past them.
    const sent = await heartbeats();
    expect(sent.length).toBeGreaterThanOrEqual(3);
    const secondToLast = sent[sent.length - 2] ?? 0n;
    await waitFor("confirmed past a heartbeat", async () => (await confirmedFlush(servers, SLOT)) > secondToLast);

    const measured = await waitFor("lag recorded", async () => {
      const [row] = await servers.storeQuery<{
        lag_bytes: string;
        lag_seconds: number | null;
        age: number;
        status: string;
        last_error: string | null;
      }>(
        `select lag_bytes::text, lag_seconds, extract(epoch from now() - lag_measured_at)::float8 as age,
                status, last_error
           from sources where id = $1`,
        [sourceId],
      );
      return row && row.age < 2 && Number(row.lag_bytes) < MB && row.lag_seconds === 0 && row;
    });
    expect(measured).toMatchObject({ status: "streaming", last_error: null });
    // What the databases API shows.
    const store = connectStore(servers.storeUrl, { max: 1 });
    try {
      expect(await getSource(store.db, sourceId)).toMatchObject({
        lagBytes: expect.any(Number),
        lagSeconds: 0,
        lagMeasuredAt: expect.any(Date),
      });
    } finally {
      await store.pool.end();
    }
    const errors = (await worker.metrics.errors.get()).values.find((v) => v.labels.source === sourceId)?.value ?? 0;
    expect(errors, "heartbeats must not break the session").toBe(0);
    const gauge = (await worker.metrics.lagBytes.get()).values.find((v) => v.labels.source === sourceId);
    expect(gauge?.value).toBeLessThan(MB);

    // The stream is healthy: a tracked change made after all of this still arrives.
    await servers.sourceQuery("insert into items values (1, 'after heartbeats')");
    await waitFor("tracked change", async () => {
      const [row] = await servers.storeQuery<{ n: number }>(
        "select count(*)::int as n from changes where source_id = $1",
        [sourceId],
      );
      return row?.n === 1;
    });
  });

  it("writes no heartbeats when they are off (keepalives still advance the slot)", async () => {
    // A heartbeat the previous worker wrote just before it stopped is not flushed by itself (a
    // non-transactional message), and the slot functions read flushed WAL only: a committed write
    // (in the other database; the WAL is the server's) flushes it, so it is counted now rather than
    // showing up later as if this worker had written it.
    await busy.query("insert into filler values (0, 'flush')");
    const before = (await heartbeats()).length;
    const since = new Date();
    worker = start(0);
    await streaming();
    // Lag is still measured (once at start, then every 30 s).
    await waitFor("lag measured", async () => {
      const [row] = await servers.storeQuery<{ at: Date | null }>(
        "select lag_measured_at as at from sources where id = $1",
        [sourceId],
      );
      return row?.at && row.at >= since;
    });
    const written = await writeElsewhere();
    expect(written).toBeGreaterThan(20 * MB);
    // PostgreSQL's walsender sends a keepalive with its send position whenever it has caught up,
    // and the session confirms it when nothing is pending: on a vanilla server the slot follows
    // even without heartbeats.
    await waitFor("slot caught up without heartbeats", async () => (await slotLag()) < MB, { timeoutMs: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await heartbeats()).length).toBe(before);
  });
});
