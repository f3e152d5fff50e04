/**
 * The partition keeper against a real store and the real worker: partitions are made ahead of the rows, a missing
 * partition never stops ingest (the default partition takes the rows, the keeper moves them out keeping their ids),
 * and a long pause of the worker loses nothing and duplicates nothing.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keepPartitions } from "../lib/retention/partitions";
import { partitionName, spansFrom } from "../lib/retention/spans";
import type { Worker } from "../worker/worker";
import { addSource, startServers, type Servers } from "./support/servers";
import { waitFor } from "./support/wait";
import { startTestWorker } from "./support/worker";

let servers: Servers;
let worker: Worker | null = null;
let sourceId: string;
let pool: pg.Pool;

const DAY_MS = 86_400_000;

type Located = { id: string; table: string; primary_key: string; partition: string };

/** The source's stored changes with the partition each is in. */
async function located(): Promise<Located[]> {
  return servers.storeQuery<Located>(
    `select id::text, "table", primary_key, tableoid::regclass::text as partition from changes
      where source_id = $1 order by id`,
    [sourceId],
  );
}

/** Every row the source's tables ever held, as the trail should list their CREATEs. */
async function sourceKeys(table: string): Promise<string[]> {
  const rows = await servers.sourceQuery<{ id: number }>(`select id from ${table} order by id`);
  return rows.map((row) => String(row.id));
}

async function writeRows(table: string, from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i += 10) {
    const ids = Array.from({ length: Math.min(10, from + count - i) }, (_, k) => `(${i + k})`).join(", ");
    await servers.sourceQuery(`insert into ${table} (id) values ${ids}`);
  }
}

async function storedCount(): Promise<number> {
  const [row] = await servers.storeQuery<{ n: number }>("select count(*)::int as n from changes where source_id = $1", [
    sourceId,
  ]);
  return row?.n ?? 0;
}

beforeAll(async () => {
  servers = await startServers();
  await servers.sourceQuery(`
    create table items (id int primary key);
    create table notes (id int primary key);
    create publication retrace_pub for table items, notes;
  `);
  await servers.sourceQuery("select pg_create_logical_replication_slot('retrace_parts', 'pgoutput')");
  sourceId = await addSource(servers, { slotName: "retrace_parts", publicationName: "retrace_pub" });
  pool = new pg.Pool({ connectionString: servers.storeUrl, max: 2 });
  // A connection the server drops while it stops is no failure of the test.
  pool.on("error", () => undefined);
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await pool?.end();
  await servers?.stop();
});

describe("partition keeper", () => {
  it("makes the current span's partition and the next two before the worker streams", async () => {
    worker = startTestWorker(servers, { partitionIntervalMs: 3_600_000 });
    await writeRows("items", 1, 20);
    await waitFor("20 changes stored", async () => (await storedCount()) === 20);
    const partitions = await servers.storeQuery<{ name: string; bucket: string; from_at: Date; to_at: Date }>(
      "select name, bucket, from_at, to_at from trail_partitions where source_id = $1 order by from_at",
      [sourceId],
    );
    // No rule: kept forever, a partition a month.
    const months = spansFrom(new Date(), null, 2);
    expect(partitions).toEqual(
      months.map((span) => ({
        name: partitionName(sourceId, "", span.from),
        bucket: "",
        from_at: span.from,
        to_at: span.to,
      })),
    );
    const rows = await located();
    expect(new Set(rows.map((row) => row.partition))).toEqual(new Set([partitions[0]?.name]));
    expect(await servers.storeQuery("select count(*)::int as n from changes_default")).toEqual([{ n: 0 }]);
    await worker.stop();
    worker = null;
  });

  it("keeps ingesting into the default partition while a partition is missing, then moves the rows out", async () => {
    // The keeper's clock in the past: it makes partitions for then, none for the rows' commit times in the
    // new bucket (a table rule set while the worker was down) — and ingest must not care.
    await servers.storeQuery(
      `insert into retention_rules (environment, "table", days) values ('test', 'public.notes', 3)`,
    );
    worker = startTestWorker(servers, {
      partitionIntervalMs: 3_600_000,
      partitionClock: () => new Date(Date.now() - 400 * DAY_MS),
    });
    await writeRows("notes", 1, 30);
    await writeRows("items", 21, 10);
    await waitFor("60 changes stored", async () => (await storedCount()) === 60);
    const before = await located();
    const inDefault = before.filter((row) => row.partition === "changes_default");
    expect(inDefault.map((row) => row.table)).toEqual(Array(30).fill("notes"));
    const [bucket] = await servers.storeQuery<{ buckets: string[] }>(
      "select array_agg(distinct bucket) as buckets from changes where source_id = $1 and \"table\" = 'notes'",
      [sourceId],
    );
    expect(bucket?.buckets).toEqual(["public.notes"]);

    // One keeper round at the real time moves them into a day partition of the notes bucket, ids kept.
    const round = await keepPartitions(pool);
    expect(round.moved).toBe(30);
    const today = partitionName(sourceId, "public.notes", spansFrom(new Date(), 3, 0)[0]?.from ?? new Date());
    expect(round.created).toContain(today);
    const after = await located();
    expect(after.map((row) => row.id)).toEqual(before.map((row) => row.id));
    expect(after.filter((row) => row.table === "notes").every((row) => row.partition === today)).toBe(true);
    expect(await servers.storeQuery("select count(*)::int as n from changes_default")).toEqual([{ n: 0 }]);
    // A second round has nothing left to do.
    expect(await keepPartitions(pool)).toEqual({ created: [], moved: 0, skipped: 0 });
    await worker.stop();
    worker = null;
  });

  it("loses nothing and duplicates nothing over a long pause of the worker", async () => {
    // The notes rule now keeps forever: nothing expires, and its bucket goes from a partition a day to a month.
    await servers.storeQuery("update retention_rules set days = null");
    // The source goes on while no worker streams it.
    await writeRows("items", 31, 200);
    await writeRows("notes", 31, 100);
    await servers.sourceQuery("update items set id = id + 10000 where id <= 5");
    // Back with a clock 70 days ahead: it makes partitions for then; today's rows find the partitions made
    // before the pause, or the default partition, and the keeper's next round moves those.
    worker = startTestWorker(servers, {
      partitionIntervalMs: 3_600_000,
      partitionClock: () => new Date(Date.now() + 70 * DAY_MS),
    });
    const expected = 60 + 300 + 5;
    await waitFor(`${expected} changes stored`, async () => (await storedCount()) === expected, { timeoutMs: 60_000 });
    await keepPartitions(pool);
    const rows = await located();
    expect(rows.filter((row) => row.partition === "changes_default")).toEqual([]);
    // The notes bucket went from days (a 3-day rule) to months (forever): this month is covered by the day
    // partitions already there and month pieces around them, with no gap.
    const month = spansFrom(new Date(), null, 0)[0] ?? { from: new Date(), to: new Date() };
    const pieces = await servers.storeQuery<{ from_at: Date; to_at: Date }>(
      `select from_at, to_at from trail_partitions
        where source_id = $1 and bucket = 'public.notes' and to_at > $2 and from_at < $3 order by from_at`,
      [sourceId, month.from, month.to],
    );
    expect(pieces[0]?.from_at.getTime()).toBeLessThanOrEqual(month.from.getTime());
    for (let i = 1; i < pieces.length; i++) expect(pieces[i]?.from_at).toEqual(pieces[i - 1]?.to_at);
    expect(pieces.at(-1)?.to_at.getTime()).toBeGreaterThanOrEqual(month.to.getTime());
    // Exactly the source's history: every CREATE once, the five updates once, nothing twice.
    const creates = await servers.storeQuery<{ table: string; primary_key: string }>(
      `select "table", primary_key from changes where source_id = $1 and operation = 'CREATE'
        order by "table", primary_key::int`,
      [sourceId],
    );
    const itemKeys = [...(await sourceKeys("items")).filter((id) => Number(id) < 10000), "1", "2", "3", "4", "5"];
    expect(creates.filter((row) => row.table === "items").map((row) => row.primary_key)).toEqual(
      itemKeys
        .map(Number)
        .sort((a, b) => a - b)
        .map(String),
    );
    expect(creates.filter((row) => row.table === "notes").map((row) => row.primary_key)).toEqual(
      await sourceKeys("notes"),
    );
    const [dupes] = await servers.storeQuery<{ n: number }>(
      `select count(*)::int as n from (select commit_lsn, seq from changes where source_id = $1
        group by commit_lsn, seq having count(*) > 1) d`,
      [sourceId],
    );
    expect(dupes?.n).toBe(0);
    const [updates] = await servers.storeQuery<{ n: number }>(
      "select count(*)::int as n from changes where source_id = $1 and operation = 'UPDATE'",
      [sourceId],
    );
    expect(updates?.n).toBe(5);
  });

  it("gives up on a busy lock at once and makes the partition next round", async () => {
    await worker?.stop();
    worker = null;
    const far = new Date(Date.now() + 5 * 365 * DAY_MS);
    const held = await pool.connect();
    try {
      // Someone holds the default partition (as an ingest transaction writing rows into it would).
      await held.query("begin");
      await held.query("lock table changes_default in row exclusive mode");
      const busy = await keepPartitions(pool, { now: far, lockTimeoutMs: 50 });
      expect(busy.created).toEqual([]);
      expect(busy.skipped).toBeGreaterThan(0);
    } finally {
      await held.query("rollback");
      held.release();
    }
    const next = await keepPartitions(pool, { now: far, lockTimeoutMs: 50 });
    expect(next.skipped).toBe(0);
    expect(next.created).toContain(partitionName(sourceId, "", spansFrom(far, null, 0)[0]?.from ?? far));
  });
});
