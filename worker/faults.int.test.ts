/**
 * The ingest contract under faults: whatever happens to the worker, the source, the store or
 * the network between them, the audit trail ends up exactly equal to what happened, and the slot
 * is never confirmed past what the store holds.
 *
 * The worker runs as a child process (`node --import tsx worker/run.ts`) and reaches both servers
 * through TCP proxies on 127.0.0.1, so links can be cut. A writer keeps committing transactions
 * (many small ones mixing inserts, updates, deletes and upserts, some large ones, truncates)
 * straight to the source. Ground truth is recorded at the source in the same transactions by
 * AFTER triggers (to_jsonb of the old and new row, the key, the xid) into an unpublished table,
 * so it is exactly what committed, including transactions whose client saw an error.
 *
 * After each fault the store must equal the truth: per source transaction, the same changes in
 * the same order with the same images, and no transaction stored twice. A sampler meanwhile reads
 * the slot's confirmed position and then the store; no transaction may be confirmed before it
 * was stored.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseLsn } from "../lib/replication/lsn";
import { addSource, startServers, type Servers } from "../test/support/servers";
import { startTcpProxy, type TcpProxy } from "../test/support/tcp-proxy";
import { recordTruth, TRUTH_SETUP } from "../test/support/truth";
import { waitFor, type WaitOptions } from "../test/support/wait";
import { isRunning, killWorkerProcesses, spawnWorkerProcess, type WorkerProcess } from "../test/support/worker";

const SLOT = "faults_slot";
const PUBLICATION = "faults_pub";
const TAKEOVER_LIMIT_MS = 15_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Deterministic pseudo-random numbers (a failing run can be reasoned about). */
function randomSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}
const random = randomSource(20240229);

let servers: Servers;
let sourceProxy: TcpProxy;
let storeProxy: TcpProxy;
let storeUrlViaProxy: string;
let sourceId: string;

// ---------------------------------------------------------------------------------------------
// Worker processes

const spawned: WorkerProcess[] = [];

function spawnWorker(): WorkerProcess {
  const worker = spawnWorkerProcess({
    DATABASE_URL: storeUrlViaProxy,
    WORKER_METRICS_PORT: "0",
    // Heartbeats move the acknowledged position between transactions: exercise that too.
    RETRACE_HEARTBEAT_SECONDS: "1",
  });
  spawned.push(worker);
  return worker;
}

async function kill(worker: WorkerProcess): Promise<void> {
  worker.child.kill("SIGKILL");
  await worker.exited;
}

// ---------------------------------------------------------------------------------------------
// Queries that may hit a server while it restarts

async function tryQuery<T extends pg.QueryResultRow>(run: () => Promise<T[]>): Promise<T[] | null> {
  try {
    return await run();
  } catch {
    return null;
  }
}

/** How the tests wait here: a query that fails (a server restarting) counts as "not yet". */
const throughFaults = (timeoutMs = 30_000): WaitOptions => ({ timeoutMs, retryErrors: true });

async function storedCount(): Promise<number> {
  const [row] = await servers.storeQuery<{ n: number }>("select count(*)::int as n from changes where source_id = $1", [
    sourceId,
  ]);
  return row?.n ?? 0;
}

async function truthCount(): Promise<number> {
  const [row] = await servers.sourceQuery<{ n: number }>("select count(*)::int as n from truth");
  return row?.n ?? 0;
}

function workerOutputs(): string {
  return spawned
    .map(
      (w, i) =>
        `--- worker ${i} (exit ${w.child.exitCode ?? w.child.signalCode ?? "running"}) ---\n${w.output().slice(-4000)}`,
    )
    .join("\n");
}

/** Waits until the worker stored `more` changes beyond what is stored now: it is streaming. */
async function progress(more = 20, timeoutMs = 30_000): Promise<void> {
  const from = await waitFor("store reachable", async () => [await storedCount()], throughFaults());
  await waitFor(
    `${more} more changes stored`,
    async () => (await storedCount()) >= (from[0] ?? 0) + more,
    throughFaults(timeoutMs),
  ).catch(async (error: unknown) => {
    const status = await tryQuery(() =>
      servers.storeQuery<{ status: string; last_error: string | null }>(
        "select status, last_error from sources where id = $1",
        [sourceId],
      ),
    );
    throw new Error(`${String(error)} (source: ${JSON.stringify(status?.[0])})\n${workerOutputs()}`);
  });
}

async function walsenderPid(): Promise<number | null> {
  const rows = await servers.sourceQuery<{ pid: number }>(
    "select pid from pg_stat_replication where application_name = 'retrace-worker' and state = 'streaming'",
  );
  return rows[0]?.pid ?? null;
}

// ---------------------------------------------------------------------------------------------
// The writer

/** Commits transactions to the source until stopped; reconnects through server restarts. */
class Workload {
  private running = false;
  private loop: Promise<void> | null = null;
  private nextId = 1;
  private readonly live: number[] = [];
  committed = 0;
  failed = 0;
  /** Resolves after the next large transaction commits. */
  private bigWaiters: Array<() => void> = [];

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    this.loop = null;
  }

  nextBigCommit(): Promise<void> {
    return new Promise((resolve) => this.bigWaiters.push(resolve));
  }

  private async run(): Promise<void> {
    let client: pg.Client | null = null;
    while (this.running) {
      try {
        if (!client) {
          const connecting = new pg.Client({ connectionString: servers.sourceUrl });
          connecting.on("error", () => undefined);
          await connecting.connect();
          client = connecting;
        }
        const { sql, big, inserted, deleted } = this.nextTransaction();
        await client.query(sql);
        this.committed++;
        this.live.push(...inserted);
        for (const id of deleted) this.live.splice(this.live.indexOf(id), 1);
        if (big) for (const wake of this.bigWaiters.splice(0)) wake();
      } catch {
        // The source restarted or refused: the truth table knows what committed.
        this.failed++;
        await client?.end().catch(() => undefined);
        client = null;
        await sleep(100);
      }
      await sleep(12);
    }
    await client?.end().catch(() => undefined);
  }

  private pick(): number | undefined {
    return this.live[Math.floor(random() * this.live.length)];
  }

  private nextTransaction(): { sql: string; big: boolean; inserted: number[]; deleted: number[] } {
    const n = this.committed + this.failed;
    const inserted: number[] = [];
    const deleted: number[] = [];
    if (n % 80 === 79) {
      // A large one: 1500 inserts and an update of a range of older rows.
      const from = this.nextId;
      this.nextId += 1500;
      for (let id = from; id < this.nextId; id++) inserted.push(id);
      const low = Math.max(1, from - 300);
      return {
        sql: `insert into acct select g, g % 97, repeat('x', 40) || g from generate_series(${from}, ${from + 1499}) g;
              update acct set v = v + 1, note = note || '+' where id between ${low} and ${low + 100}`,
        big: true,
        inserted,
        deleted,
      };
    }
    if (n % 45 === 44) {
      return {
        sql: `truncate scratch; insert into scratch values (${n}, 'after truncate ${n}')`,
        big: false,
        inserted,
        deleted,
      };
    }
    const statements: string[] = [];
    const inserts = 1 + Math.floor(random() * 3);
    for (let i = 0; i < inserts; i++) {
      const id = this.nextId++;
      inserted.push(id);
      statements.push(`insert into acct values (${id}, ${Math.floor(random() * 1000)}, 'row ${id} é ''q''')`);
    }
    const updated = this.pick();
    if (updated !== undefined)
      statements.push(`update acct set v = v * 2 + 1, note = 'updated in ${n}' where id = ${updated}`);
    const doomed = this.pick();
    if (doomed !== undefined && random() < 0.4 && doomed !== updated) {
      deleted.push(doomed);
      statements.push(`delete from acct where id = ${doomed}`);
    }
    statements.push(
      `insert into ledger values (${n % 50}, 'b${n % 7}', ${n}.25) ` +
        "on conflict (a, b) do update set amount = ledger.amount + excluded.amount",
    );
    if (n % 9 === 0) statements.push(`insert into scratch values (${n}, 'row ${n}')`);
    return { sql: statements.join(";\n"), big: false, inserted, deleted };
  }
}

const workload = new Workload();

// ---------------------------------------------------------------------------------------------
// What must hold

type Change = {
  xid: string;
  table: string;
  op: string;
  pk: string | null;
  before: string | null;
  after: string | null;
};

async function truthChanges(): Promise<Change[]> {
  return servers.sourceQuery<Change>(
    "select xid::text as xid, tbl as table, op, pk, before::text as before, after::text as after from truth order by n",
  );
}

async function storedChanges(): Promise<Change[]> {
  return servers.storeQuery<Change>(
    `select transaction_id::text as xid, "table" as table, operation::text as op, primary_key as pk,
            before::jsonb::text as before, after::jsonb::text as after
       from changes where source_id = $1 order by commit_lsn, seq`,
    [sourceId],
  );
}

function perTransaction(changes: Change[]): Map<string, string> {
  const groups = new Map<string, Array<Omit<Change, "xid">>>();
  for (const { xid, ...change } of changes) {
    const list = groups.get(xid) ?? [];
    list.push(change);
    groups.set(xid, list);
  }
  return new Map([...groups].map(([xid, list]) => [xid, JSON.stringify(list)]));
}

const countBy = (changes: Change[]) =>
  changes.reduce<Record<string, number>>((counts, c) => ({ ...counts, [c.op]: (counts[c.op] ?? 0) + 1 }), {});

/** Waits for the worker to store everything the source committed, then compares exactly. */
async function expectExactlyTheTruth(): Promise<void> {
  const expectedCount = await waitFor("truth readable", async () => [await truthCount()], throughFaults());
  await waitFor(
    `${expectedCount[0]} changes stored`,
    async () => (await storedCount()) >= (expectedCount[0] ?? 0),
    throughFaults(45_000),
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}\n${workerOutputs()}`);
  });
  const [truth, stored] = await Promise.all([truthChanges(), storedChanges()]);
  expect(countBy(stored)).toEqual(countBy(truth));

  const expected = perTransaction(truth);
  const actual = perTransaction(stored);
  const missing = [...expected.keys()].filter((xid) => !actual.has(xid));
  const extra = [...actual.keys()].filter((xid) => !expected.has(xid));
  const differing = [...expected.keys()]
    .filter((xid) => actual.has(xid) && actual.get(xid) !== expected.get(xid))
    .map((xid) => ({ xid, expected: expected.get(xid)?.slice(0, 600), stored: actual.get(xid)?.slice(0, 600) }));
  expect({ missing: missing.slice(0, 5), extra: extra.slice(0, 5), differing: differing.slice(0, 2) }).toEqual({
    missing: [],
    extra: [],
    differing: [],
  });
  // Commit order: the store's (commit LSN) is the source's.
  expect([...actual.keys()]).toEqual([...expected.keys()]);

  // Each source transaction is stored under one commit LSN, each (commit LSN, seq) once.
  const [keys] = await servers.storeQuery<{ rows: number; keys: number; split: number }>(
    `select count(*)::int as rows, count(distinct (commit_lsn, seq))::int as keys,
            (select count(*) from (select 1 from changes where source_id = $1 group by transaction_id
                                   having count(distinct commit_lsn) > 1) x)::int as split
       from changes where source_id = $1`,
    [sourceId],
  );
  expect(keys).toEqual({ rows: stored.length, keys: stored.length, split: 0 });
}

// ---------------------------------------------------------------------------------------------
// The sampler: confirmed position first, then what the store holds (one snapshot).

type Sample = { confirmed: bigint; maxStored: bigint | null; checkpoint: bigint | null };
const samples: Sample[] = [];
let sampling = false;
let sampler: Promise<void> | null = null;

function startSampler(): void {
  sampling = true;
  sampler = (async () => {
    while (sampling) {
      const slot = await tryQuery(() =>
        servers.sourceQuery<{ lsn: string | null }>(
          "select confirmed_flush_lsn::text as lsn from pg_replication_slots where slot_name = $1",
          [SLOT],
        ),
      );
      const confirmed = slot?.[0]?.lsn;
      if (confirmed) {
        const store = await tryQuery(() =>
          servers.storeQuery<{ max_stored: string | null; checkpoint: string | null }>(
            `select (select max(commit_lsn)::text from changes where source_id = $1) as max_stored,
                    (select checkpoint_lsn::text from sources where id = $1) as checkpoint`,
            [sourceId],
          ),
        );
        const row = store?.[0];
        if (row) {
          samples.push({
            confirmed: parseLsn(confirmed),
            maxStored: row.max_stored ? parseLsn(row.max_stored) : null,
            checkpoint: row.checkpoint ? parseLsn(row.checkpoint) : null,
          });
        }
      }
      await sleep(50);
    }
  })();
}

/**
 * Every transaction whose commit record starts before a sample's confirmed position was
 * acknowledged (confirmed positions are record boundaries, so it ends there or before); it must
 * already have been in the store, and the checkpoint (written in the same store transaction)
 * must cover it.
 */
async function expectNeverConfirmedAheadOfStore(): Promise<void> {
  const rows = await servers.storeQuery<{ lsn: string }>(
    "select distinct commit_lsn::text as lsn from changes where source_id = $1",
    [sourceId],
  );
  const commits = rows.map((r) => parseLsn(r.lsn)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const lastBefore = (position: bigint): bigint | null => {
    let low = 0;
    let high = commits.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      const value = commits[middle];
      if (value !== undefined && value < position) low = middle + 1;
      else high = middle;
    }
    return low > 0 ? (commits[low - 1] ?? null) : null;
  };
  expect(samples.length).toBeGreaterThan(100);
  let checked = 0;
  const violations: string[] = [];
  for (const sample of samples) {
    const acknowledged = lastBefore(sample.confirmed);
    if (acknowledged === null) continue;
    checked++;
    if (sample.maxStored === null || sample.maxStored < acknowledged) {
      violations.push(
        `confirmed ${sample.confirmed} covers commit ${acknowledged}, store had up to ${sample.maxStored}`,
      );
    }
    if (sample.maxStored !== null && (sample.checkpoint === null || sample.checkpoint < sample.maxStored)) {
      violations.push(`checkpoint ${sample.checkpoint} behind stored commit ${sample.maxStored}`);
    }
  }
  expect(violations.slice(0, 5)).toEqual([]);
  expect(checked).toBeGreaterThan(100);
}

// ---------------------------------------------------------------------------------------------

let current: WorkerProcess;

beforeAll(async () => {
  servers = await startServers();
  await servers.sourceQuery(`
    create table acct (id int primary key, v int not null, note text);
    create table ledger (a int, b text, amount numeric, primary key (a, b));
    create table scratch (id int, note text); -- no primary key
    alter table acct replica identity full;
    alter table ledger replica identity full;
    alter table scratch replica identity full;
    ${TRUTH_SETUP}
    ${recordTruth("acct")}
    ${recordTruth("ledger")}
    ${recordTruth("scratch", { truncate: true })}
    create publication ${PUBLICATION} for table acct, ledger, scratch;
  `);
  await servers.sourceQuery("select pg_create_logical_replication_slot($1, 'pgoutput')", [SLOT]);
  sourceProxy = await startTcpProxy({ host: "127.0.0.1", port: servers.source.port });
  storeProxy = await startTcpProxy({ host: "127.0.0.1", port: servers.store.port });
  storeUrlViaProxy = `postgres://postgres:${servers.store.password}@127.0.0.1:${storeProxy.port}/retrace`;
  sourceId = await addSource(servers, {
    slotName: SLOT,
    publicationName: PUBLICATION,
    host: "127.0.0.1",
    port: sourceProxy.port,
  });
  startSampler();
  current = spawnWorker();
});

afterAll(async () => {
  sampling = false;
  await workload.stop();
  await sampler;
  await killWorkerProcesses();
  await Promise.allSettled([sourceProxy?.close(), storeProxy?.close()]);
  await servers?.stop();
});

/** The worker that should be streaming; a fresh one if the last one died (a failed scenario). */
function ensureWorker(): WorkerProcess {
  if (!isRunning(current)) current = spawnWorker();
  return current;
}

/** Runs a scenario with the writer committing throughout, and always stops the writer. */
async function underLoad(scenario: () => Promise<void>): Promise<void> {
  ensureWorker();
  workload.start();
  try {
    await progress(30);
    await scenario();
  } finally {
    await workload.stop();
  }
  await expectExactlyTheTruth();
}

describe("faults", () => {
  it("a: the worker is SIGKILLed three times mid-stream", async () => {
    const midStream: boolean[] = [];
    await underLoad(async () => {
      for (let round = 0; round < 3; round++) {
        // Once right after a large transaction commits (the worker is decoding or writing it),
        // otherwise at a random moment.
        if (round === 1) await workload.nextBigCommit();
        else await sleep(200 + Math.floor(random() * 1_200));
        const committedBefore = await truthCount();
        await kill(current);
        midStream.push((await storedCount()) < committedBefore);
        current = spawnWorker();
        await progress(20);
      }
    });
    expect(midStream.some(Boolean), "at least one kill must land with committed changes not yet stored").toBe(true);
  });

  it("b: the source server restarts mid-stream", async () => {
    await underLoad(async () => {
      await servers.source.restart();
      await progress(50);
    });
  });

  it("c: the store server restarts mid-stream", async () => {
    await underLoad(async () => {
      await servers.store.restart();
      await progress(50);
    });
  });

  it("d: the network to the source is reset, then blackholed", async () => {
    await underLoad(async () => {
      sourceProxy.cut("reset");
      // The cut is real: the server loses the stream.
      await waitFor("the walsender gone", async () => (await walsenderPid()) === null, throughFaults(5_000));
      await sleep(2_000);
      sourceProxy.restore();
      await progress(30);

      sourceProxy.cut("blackhole");
      await sleep(1_000);
      const frozenAt = await storedCount();
      await sleep(1_500);
      // Nothing arrives while the writer keeps committing; the connections survive it.
      expect(await storedCount()).toBe(frozenAt);
      sourceProxy.restore();
      await progress(30);
    });
  });

  it("d: the network to the store is reset, then blackholed", async () => {
    await underLoad(async () => {
      for (const mode of ["reset", "blackhole"] as const) {
        storeProxy.cut(mode);
        await sleep(2_500);
        storeProxy.restore();
        await progress(30);
      }
    });
  });

  it("e: a second worker takes over within seconds when the lease holder is SIGKILLed", async () => {
    let tookOverAfterMs = Number.POSITIVE_INFINITY;
    await underLoad(async () => {
      const standby = spawnWorker();
      // The standby has started and polls, but the source is leased.
      await sleep(3_000);
      const before = await walsenderPid();
      expect(before).not.toBeNull();
      const killedAt = Date.now();
      await kill(current);
      current = standby;
      tookOverAfterMs = await waitFor(
        "a new walsender streaming",
        async () => {
          const pid = await walsenderPid();
          return pid !== null && pid !== before && Date.now() - killedAt;
        },
        throughFaults(TAKEOVER_LIMIT_MS + 5_000),
      );
      await progress(30);
    });
    expect(tookOverAfterMs).toBeLessThan(TAKEOVER_LIMIT_MS);
  });

  it("f: SIGTERM while a transaction is being written exits 0 in time, and nothing is lost or doubled", async () => {
    const worker = ensureWorker();
    await expectExactlyTheTruth();
    const rows = 40_000;
    const [{ first } = { first: 0 }] = await servers.sourceQuery<{ first: number }>(
      "select coalesce(max(id), 0) + 1 as first from acct",
    );
    const [{ xid } = { xid: "" }] = await servers.sourceQuery<{ xid: string }>(
      `with rows as (insert into acct select g, g % 13, 'bulk ' || g
                       from generate_series($1::int, $1::int + $2::int - 1) g returning 1)
       select (pg_current_xact_id()::text::bigint % 4294967296)::text as xid from rows limit 1`,
      [first, rows],
    );
    // The worker's store connection is inside a transaction or inserting: it is writing.
    await waitFor(
      "the store write of the large transaction",
      async () => {
        const [row] = await servers.storeQuery<{ n: number }>(
          `select count(*)::int as n from pg_stat_activity
            where application_name = 'retrace-worker'
              and (state = 'idle in transaction'
                   or (state = 'active' and (query ilike 'insert into changes%' or query ilike 'copy changes%')))`,
        );
        return (row?.n ?? 0) > 0;
      },
      throughFaults(20_000),
    );
    const signalledAt = Date.now();
    worker.child.kill("SIGTERM");
    const code = await worker.exited;
    const exitedAfterMs = Date.now() - signalledAt;
    expect(code, worker.output().slice(-4000)).toBe(0);
    expect(exitedAfterMs).toBeLessThan(15_000);

    // All of it or none of it; if it is stored, it was acknowledged before the exit.
    const [stored] = await servers.storeQuery<{ n: number; commit_lsn: string | null }>(
      "select count(*)::int as n, max(commit_lsn)::text as commit_lsn from changes " +
        "where source_id = $1 and transaction_id = $2",
      [sourceId, xid],
    );
    expect([0, rows]).toContain(stored?.n);
    if (stored?.commit_lsn) {
      const [slot] = await servers.sourceQuery<{ lsn: string }>(
        "select confirmed_flush_lsn::text as lsn from pg_replication_slots where slot_name = $1",
        [SLOT],
      );
      expect(parseLsn(slot?.lsn ?? "0/0")).toBeGreaterThan(parseLsn(stored.commit_lsn));
    }

    current = spawnWorker();
    await expectExactlyTheTruth();
  });

  it("never confirmed the slot past what the store held, through all of the above", async () => {
    sampling = false;
    await sampler;
    await expectNeverConfirmedAheadOfStore();
  });
});
