/**
 * Retention against a real store and the real worker, WHILE it writes: the worker's partition keeper runs with a
 * clock 40 days ahead, so the partitions of today's changes are old to it. Only the bucket whose rule expired them
 * (public.notes, 1 day) is dropped, and only once sealed; the environment's tables (no rule: forever) keep every
 * change. Verify passes across the drop and still names a change deleted from a surviving partition.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expirePartitions } from "../lib/retention/expire";
import { keepPartitions, keepSourcePartitions } from "../lib/retention/partitions";
import { verifyDatabases } from "../lib/seals/databases";
import type { Worker } from "../worker/worker";
import { addSource, SECRET, startServers, type Servers } from "./support/servers";
import { changesOutsideContexts, rollupsOffSegments } from "./support/browse-reference";
import { waitFor } from "./support/wait";
import { startTestWorker } from "./support/worker";

let servers: Servers;
let worker: Worker;
let sourceId: string;
let pool: pg.Pool;

const DAY_MS = 86_400_000;
const ahead = () => new Date(Date.now() + 40 * DAY_MS);

async function count(sql: string): Promise<number> {
  const [row] = await servers.storeQuery<{ n: number }>(sql, [sourceId]);
  return row?.n ?? -1;
}

async function verify(secret = SECRET) {
  const [result] = await verifyDatabases(pool, secret, { database: sourceId });
  if (!result) throw new Error("no result");
  return result;
}

beforeAll(async () => {
  servers = await startServers();
  await servers.sourceQuery(`
    create table items (id int primary key, n int);
    create table notes (id int primary key, body text);
    create publication retrace_pub for table items, notes;
  `);
  await servers.sourceQuery("select pg_create_logical_replication_slot('retrace_ret', 'pgoutput')");
  sourceId = await addSource(servers, { slotName: "retrace_ret", publicationName: "retrace_pub", environment: "test" });
  // notes: kept a day; the rest of the environment: no rule, kept forever.
  await servers.storeQuery(
    `insert into retention_rules (environment, "table", days) values ('test', 'public.notes', 1)`,
  );
  pool = new pg.Pool({ connectionString: servers.storeUrl, max: 2 });
  // A connection the server drops while it stops is no failure of the test.
  pool.on("error", () => undefined);
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await pool?.end();
  await servers?.stop();
});

describe("retention", () => {
  it("drops exactly the expired partitions, while the worker writes, and keeps everything else", async () => {
    worker = startTestWorker(servers, { partitionIntervalMs: 300, sealIntervalMs: 100, partitionClock: ahead });
    // The source writes the whole time: items (kept) and notes (expire), in transactions of both.
    for (let i = 1; i <= 60; i++) {
      await servers.sourceQuery(
        `begin; insert into items values (${i}, ${i}); insert into notes values (${i}, 'note ${i}');
         update items set n = n + 1 where id = ${i}; commit;`,
      );
      if (i % 20 === 0) {
        // Some notes partitions dropped while the worker goes on writing.
        await waitFor(
          "a notes partition dropped",
          async () => (await count("select count(*)::int as n from trail_expiries where source_id = $1")) >= i / 20,
          { timeoutMs: 90_000 },
        );
      }
    }
    await waitFor(
      "every change stored, sealed, and the notes gone",
      async () =>
        (await count("select count(*)::int as n from change_seals where source_id = $1")) === 180 &&
        (await count(`select count(*)::int as n from changes where source_id = $1 and "table" = 'notes'`)) === 0,
      { timeoutMs: 120_000 },
    );
    // items: every change of the source's history is still there, once.
    expect(await count(`select count(*)::int as n from changes where source_id = $1 and "table" = 'items'`)).toBe(120);
    expect(
      await count(
        `select count(distinct (primary_key, operation))::int as n from changes
          where source_id = $1 and "table" = 'items'`,
      ),
    ).toBe(120);
    // What was dropped: notes partitions only, each recorded once per drop with its change count.
    const expiries = await servers.storeQuery<{ bucket: string; changes: number }>(
      "select bucket, changes::int from trail_expiries where source_id = $1",
      [sourceId],
    );
    expect(new Set(expiries.map((e) => e.bucket))).toEqual(new Set(["public.notes"]));
    expect(expiries.reduce((sum, e) => sum + e.changes, 0)).toBe(60);
    // The source's own partitions (forever) are all still there: this month's and the ones made ahead.
    const kept = await servers.storeQuery<{ bucket: string; n: number }>(
      "select bucket, count(*)::int as n from trail_partitions where source_id = $1 group by bucket order by bucket",
      [sourceId],
    );
    expect(kept[0]?.bucket).toBe("");
    expect(kept[0]?.n).toBeGreaterThanOrEqual(3);
    expect(await count("select count(*)::int as n from changes_default where source_id = $1")).toBe(0);
    // The change summary forgot the notes (every change it counted went), not the items.
    expect(
      await count(`select count(*)::int as n from change_segments where source_id = $1 and "table" = 'notes'`),
    ).toBe(0);
    expect(
      await count(`select coalesce(sum(creates + updates), 0)::int as n from change_segments
                    where source_id = $1 and "table" = 'items'`),
    ).toBe(120);
    // The chart's rollups are summed again from what the segments keep.
    expect(await rollupsOffSegments((text) => servers.storeQuery(text))).toEqual([]);
    expect(await changesOutsideContexts((text) => servers.storeQuery(text))).toEqual([]);
    // Generous: on a loaded machine (load average 10+) the keeper's rounds come late; quiet, this takes ~5 s.
  }, 360_000);

  it("verifies across the drop: expired changes are counted as expired, not removed", async () => {
    const result = await verify();
    expect(result).toMatchObject({ ok: true, verified: 120, expired: 60, unsealed: 0 });
  });

  it("does not take a forged expiry for a deleted change", async () => {
    await worker.stop();
    const [victim] = await servers.storeQuery<{ id: string; committed_at: Date }>(
      `select id::text, committed_at from changes where source_id = $1 and "table" = 'items'
        order by id limit 1 offset 10`,
      [sourceId],
    );
    await servers.storeQuery("delete from changes where id = $1", [victim?.id]);
    // An expiry row with a wrong signature covering it changes nothing.
    await servers.storeQuery(
      `insert into trail_expiries (partition, source_id, bucket, from_at, to_at, changes, signature)
       values ('forged', $1, '', '-infinity', 'infinity', 1, repeat('0', 64))`,
      [sourceId],
    );
    const result = await verify();
    expect(result).toMatchObject({ ok: false, problem: "removed", change: { id: victim?.id } });
  });

  it("waits for the seals: nothing unsealed is dropped", async () => {
    // A partition whose changes are not sealed yet stays: no sealer runs now, the expirer alone.
    await servers.storeQuery("delete from trail_expiries where partition = 'forged'");
    await servers.storeQuery(
      `insert into changes (source_id, bucket, environment, database, schema, "table", operation, transaction_id,
         commit_lsn, seq, committed_at, queued_at)
       values ($1, 'public.notes', 'test', 'app', 'public', 'notes', 'CREATE', 1, 'FFFFFFFF/0', 0, now(), now())`,
      [sourceId],
    );
    // The keeper (at the real time) gives it a partition of its day again: the one before was dropped.
    await keepPartitions(pool);
    const notesToday = await servers.storeQuery<{ name: string }>(
      `select tableoid::regclass::text as name from changes where source_id = $1 and "table" = 'notes'`,
      [sourceId],
    );
    const result = await expirePartitions(pool, SECRET, { now: ahead() });
    expect(result.waiting).toContainEqual({ name: notesToday[0]?.name, why: "unsealed" });
    expect(await count(`select count(*)::int as n from changes where source_id = $1 and "table" = 'notes'`)).toBe(1);
  });

  it("keeps a partition whose rule asks for an archive while no archiver is wired in", async () => {
    await servers.storeQuery(
      `insert into retention_rules (environment, "table", days, archive) values ('test', '', 1, true)`,
    );
    try {
      const [month] = await servers.storeQuery<{ name: string }>(
        `select distinct tableoid::regclass::text as name from changes where source_id = $1 and "table" = 'items'`,
        [sourceId],
      );
      const result = await expirePartitions(pool, SECRET, { now: ahead() });
      expect(result.waiting).toContainEqual({ name: month?.name, why: "no-archiver" });
      expect(result.dropped).not.toContain(month?.name);
      expect(await count(`select count(*)::int as n from changes where source_id = $1 and "table" = 'items'`)).toBe(
        119,
      );
    } finally {
      await servers.storeQuery(`delete from retention_rules where environment = 'test' and "table" = ''`);
    }
  });

  it("drops the partitions of a database deleted with its changes, and only those", async () => {
    const [gone] = await servers.storeQuery<{ id: string }>(
      `insert into sources (name, host, port, database, username, password_encrypted, environment, slot_name,
                            publication_name)
       values ('gone', 'localhost', 5432, 'gone', 'u', 'x', 'test', 'retrace_gone', 'retrace_gone') returning id::text`,
    );
    const made = await keepSourcePartitions(pool, { id: gone?.id ?? "", environment: "test" });
    // Its own bucket and public.notes (a rule of its own in the environment): three spans each.
    expect(made.created).toHaveLength(6);
    const before = await count("select count(*)::int as n from trail_partitions where source_id = $1");
    await servers.storeQuery("delete from sources where id = $1", [gone?.id]);
    const result = await expirePartitions(pool, SECRET);
    expect([...result.dropped].sort()).toEqual([...made.created].sort());
    expect(await count("select count(*)::int as n from trail_partitions where source_id = $1")).toBe(before);
    const [left] = await servers.storeQuery<{ n: number }>(
      "select count(*)::int as n from pg_class where relname = any($1::text[])",
      [made.created],
    );
    expect(left?.n).toBe(0);
  });
});
