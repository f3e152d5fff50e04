/**
 * Holds against a real store, changes written and sealed by the real worker, the expirer's clock moved 40 days
 * ahead: a partition an active hold overlaps survives an expiry round while the unheld ones go; released, the next
 * round drops it. `retrace archive import` places a hold over what it brought back, so the import's changes survive
 * the next round too (twice: one hold). The API through its real route handlers: validation, who may, the audit.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HoldJson } from "../lib/holds/api-types";
import { expirePartitions } from "../lib/retention/expire";
import { keepPartitions } from "../lib/retention/partitions";
import type { Worker } from "../worker/worker";
import { callerHeaders, type Caller } from "./support/principals";
import { addSource, SECRET, startServers, type Servers } from "./support/servers";
import { waitFor } from "./support/wait";
import { startTestWorker } from "./support/worker";

type Handler = (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>;
type Answer = { status: number; body: Record<string, unknown> };

const ROOT = path.resolve(import.meta.dirname, "..");
const DAY_MS = 86_400_000;
const ROWS = 20;
const ahead = () => new Date(Date.now() + 40 * DAY_MS);

let servers: Servers;
let worker: Worker | undefined;
let pool: pg.Pool;
let sourceId: string;
let headers: Record<Caller, Record<string, string>>;
let list: Handler;
let create: Handler;
let release: Handler;
let work: string;
/** The partition holding the captured changes (today's), and the commit times of those changes. */
let partition: { name: string; from: Date; to: Date };
let first: Date;
let last: Date;

function retrace(args: string[]) {
  const result = spawnSync(process.execPath, [path.join(ROOT, "bin/retrace.mjs"), ...args], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: servers.storeUrl, RETRACE_SECRET: SECRET, LOG_LEVEL: "warn" },
    encoding: "utf8",
    timeout: 90_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

async function send(handler: Handler, caller: Caller, init: { body?: unknown; query?: string; id?: string } = {}) {
  const method = handler === list ? "GET" : handler === create ? "POST" : "DELETE";
  const url = `http://localhost/api/holds${init.id ? `/${init.id}` : ""}${init.query ? `?${init.query}` : ""}`;
  const response = await handler(
    new Request(url, {
      method,
      headers: { "content-type": "application/json", ...headers[caller] },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    }),
    { params: Promise.resolve<Record<string, string>>(init.id ? { id: init.id } : {}) },
  );
  return { status: response.status, body: (await response.json()) as Record<string, unknown> } satisfies Answer;
}

async function count(sql: string, params: unknown[] = [sourceId]): Promise<number> {
  const [row] = await servers.storeQuery<{ n: number }>(sql, params);
  return row?.n ?? -1;
}

const changesStored = () => count("select count(*)::int as n from changes where source_id = $1");
const holdOf = (answer: Answer) => answer.body.hold as HoldJson;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "retrace-holds-"));
  servers = await startServers();
  await servers.sourceQuery(`
    create table items (id int primary key, n int);
    create publication retrace_pub for table items;`);
  await servers.sourceQuery("select pg_create_logical_replication_slot('retrace_holds', 'pgoutput')");
  sourceId = await addSource(servers, { slotName: "retrace_holds", publicationName: "retrace_pub" });
  // Kept a day: a partition a day, and today's expires to a clock 40 days ahead.
  await servers.storeQuery(`insert into retention_rules (environment, "table", days) values ('test', '', 1)`);
  pool = new pg.Pool({ connectionString: servers.storeUrl, max: 3 });
  pool.on("error", () => undefined);
  process.env.DATABASE_URL = servers.storeUrl;
  process.env.RETRACE_SECRET = SECRET;
  headers = await callerHeaders(SECRET);
  const routes = (await import("@/app/api/holds/route")) as unknown as Record<string, Handler>;
  const one = (await import("@/app/api/holds/[id]/route")) as unknown as Record<string, Handler>;
  list = routes.GET as Handler;
  create = routes.POST as Handler;
  release = one.DELETE as Handler;

  // One keeper round (today's partition and two ahead) at start; the sealer seals what is captured.
  worker = startTestWorker(servers, { sealIntervalMs: 100, partitionIntervalMs: 3_600_000 });
  for (let i = 1; i <= ROWS; i++) await servers.sourceQuery(`insert into items values (${i}, ${i})`);
  await waitFor(
    "every change stored and sealed",
    async () =>
      (await count("select count(*)::int as n from change_seals where source_id = $1")) === ROWS &&
      (await changesStored()) === ROWS,
    { timeoutMs: 90_000 },
  );
  await worker.stop();
  worker = undefined;
  const [row] = await servers.storeQuery<{ name: string; from_at: Date; to_at: Date; first: Date; last: Date }>(
    `select p.name, p.from_at, p.to_at, c.first, c.last
       from (select tableoid::regclass::text as name, min(committed_at) as first, max(committed_at) as last
               from changes where source_id = $1 group by 1) c
       join trail_partitions p on p.name = c.name`,
    [sourceId],
  );
  if (!row) throw new Error("the changes are in no partition of the catalog");
  partition = { name: row.name, from: row.from_at, to: row.to_at };
  first = row.first;
  last = row.last;
}, 180_000);

afterAll(async () => {
  await worker?.stop();
  await pool?.end();
  const { getStore } = await import("@/lib/db");
  await getStore()
    .pool.end()
    .catch(() => undefined);
  await servers?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe("holds", () => {
  it("keep the partitions they overlap through an expiry round; released, they keep nothing", async () => {
    // Held: exactly the captured changes' commit times (today's partition only).
    const held = await send(create, "admin", {
      body: {
        database: "app",
        from: first.toISOString(),
        to: new Date(last.getTime() + 1).toISOString(),
        reason: "  Case 2026-114: keep the orders trail  ",
      },
    });
    expect(held.status, JSON.stringify(held.body)).toBe(201);
    expect(holdOf(held)).toMatchObject({
      database: { id: sourceId, name: "app" },
      from: first.toISOString(),
      reason: "Case 2026-114: keep the orders trail",
      createdBy: expect.stringMatching(/^admin-.*@example\.com$/),
      releasedAt: null,
    });
    // A released hold over every partition of the database keeps nothing.
    const gone = await send(create, "admin", {
      body: { database: sourceId, from: "2000-01-01T00:00:00Z", to: "2100-01-01T00:00:00Z", reason: "released" },
    });
    expect((await send(release, "admin", { id: holdOf(gone).id })).status).toBe(200);

    const others = await servers.storeQuery<{ name: string }>(
      "select name from trail_partitions where source_id = $1 and name <> $2 order by name",
      [sourceId, partition.name],
    );
    expect(others.length).toBeGreaterThanOrEqual(2);
    // What retention frees (the Storage page, the rules' preview) leaves the held partition out.
    const { getDb } = await import("@/lib/db");
    const { previewRetention } = await import("@/lib/storage/service");
    const rule = { environment: "test", table: null, days: 1, archive: false };
    const freed = await previewRetention(getDb(), [rule], ahead());
    expect(freed.total.now.partitions).toBe(others.length);
    const round = await expirePartitions(pool, SECRET, { now: ahead(), archiver: null });
    expect(round.waiting).toEqual([{ name: partition.name, why: "held" }]);
    expect([...round.dropped].sort()).toEqual(others.map((p) => p.name));
    expect(await changesStored()).toBe(ROWS);

    // Archived now (to import below), then released: the next round drops it.
    const dir = path.join(work, "today");
    const exported = retrace([
      "archive",
      "export",
      "--database",
      "app",
      "--from",
      partition.from.toISOString(),
      "--to",
      partition.to.toISOString(),
      "--dir",
      dir,
    ]);
    expect(exported.status, exported.stderr).toBe(0);
    const released = await send(release, "admin", { id: holdOf(held).id });
    expect(released.status).toBe(200);
    expect(holdOf(released)).toMatchObject({ releasedAt: expect.any(String), releasedBy: holdOf(held).createdBy });
    const next = await expirePartitions(pool, SECRET, { now: ahead(), archiver: null });
    expect(next.dropped).toEqual([partition.name]);
    expect(await changesStored()).toBe(0);
  }, 120_000);

  it("are placed by an archive import over what it brought back: its changes survive the next round", async () => {
    const dir = path.join(work, "today");
    const manifest = path.join(dir, "manifest.json");
    const run = retrace(["archive", "import", dir]);
    expect(run.status, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toContain(`${ROWS} of ${ROWS} changes stored. Held from expiry: hold `);
    const holds = await servers.storeQuery<{ id: string; from_at: Date; to_at: Date; reason: string; by: string }>(
      `select id, from_at, to_at, reason, created_by as by from trail_holds
        where source_id = $1 and released_at is null`,
      [sourceId],
    );
    expect(holds).toEqual([
      {
        id: expect.any(String),
        from_at: partition.from,
        to_at: partition.to,
        reason: `imported from ${manifest}`,
        by: `${os.userInfo().username} (command line)`,
      },
    ]);
    const holdId = holds[0]?.id ?? "";
    expect(run.stdout).toContain(holdId);
    const [audit] = await servers.storeQuery<{ actor_kind: string; target_id: string; details: { hold: string } }>(
      "select actor_kind, target_id, details from audit_events where action = 'hold.create' and details->>'hold' = $1",
      [holdId],
    );
    expect(audit).toMatchObject({ actor_kind: "cli", target_id: sourceId, details: { hold: holdId } });

    // The keeper gives the imported rows a partition of their day again; the expirer (40 days ahead) keeps it.
    await keepPartitions(pool);
    expect(await count("select count(*)::int as n from changes_default where source_id = $1")).toBe(0);
    const [{ name } = { name: "" }] = await servers.storeQuery<{ name: string }>(
      "select distinct tableoid::regclass::text as name from changes where source_id = $1",
      [sourceId],
    );
    const round = await expirePartitions(pool, SECRET, { now: ahead(), archiver: null });
    expect(round.waiting).toContainEqual({ name, why: "held" });
    expect(round.dropped).not.toContain(name);
    expect(await changesStored()).toBe(ROWS);

    const twice = retrace(["archive", "import", dir]);
    expect(twice.status).toBe(0);
    expect(twice.stdout).toContain(`0 of ${ROWS} changes stored`);
    expect(twice.stdout).toContain(`Already held from expiry by hold ${holdId}.`);
    expect(await count("select count(*)::int as n from trail_holds where source_id = $1")).toBe(3);
  }, 120_000);

  it("are listed to anyone signed in, placed and released by admins only, validated, audited", async () => {
    const state = () =>
      servers.storeQuery(`select (select count(*)::int from trail_holds) as holds,
                                 (select count(*)::int from audit_events where action like 'hold.%') as audits`);
    const before = await state();
    const valid = { database: "app", from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z", reason: "audit" };
    const refused: [unknown, number, string][] = [
      [{}, 400, "database"],
      [{ ...valid, from: "2026-02-01T00:00:00Z" }, 400, "to"],
      [{ ...valid, to: "2026-01-01T00:00:00+00:00" }, 400, "to"],
      [{ ...valid, from: "2026-13-45T00:00:00Z" }, 400, "from"],
      [{ ...valid, from: "yesterday" }, 400, "from"],
      [{ ...valid, to: 1_767_225_600_000 }, 400, "to"],
      [{ ...valid, reason: "   " }, 400, "reason"],
      [{ ...valid, reason: "x".repeat(501) }, 400, "reason"],
      [{ ...valid, extra: true }, 400, "extra"],
      [{ ...valid, database: "no-such-db" }, 404, "no-such-db"],
      [{ ...valid, database: "00000000-0000-4000-8000-000000000000" }, 404, "00000000-0000-4000-8000-000000000000"],
    ];
    for (const [body, status, named] of refused) {
      const answer = await send(create, "admin", { body });
      expect(answer.status, JSON.stringify(body)).toBe(status);
      expect(JSON.stringify(answer.body.error), JSON.stringify(body)).toContain(named);
    }
    expect((await send(create, "viewer", { body: valid })).status).toBe(403);
    expect((await send(create, "readOnlyToken", { body: valid })).status).toBe(403);
    expect(await state()).toEqual(before);

    // Viewers read: the active holds; with released=true the released ones too.
    const active = await send(list, "viewer");
    expect(active.status).toBe(200);
    const [imported] = active.body.holds as HoldJson[];
    expect((active.body.holds as HoldJson[]).map((h) => h.reason)).toEqual([imported?.reason]);
    expect(imported?.reason).toMatch(/^imported from /);
    expect(((await send(list, "readOnlyToken", { query: "released=true" })).body.holds as unknown[]).length).toBe(3);
    const bad = await send(list, "viewer", { query: "released=maybe" });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain("released");

    // Release: admins only, a 404 for no such hold, idempotent (the second records nothing).
    const id = imported?.id ?? "";
    expect((await send(release, "viewer", { id })).status).toBe(403);
    expect((await send(release, "admin", { id: "00000000-0000-4000-8000-000000000000" })).status).toBe(404);
    expect((await send(release, "admin", { id: "not-a-hold" })).status).toBe(404);
    const audits = () => count("select count(*)::int as n from audit_events where action = 'hold.release'", []);
    const releasesBefore = await audits();
    const once = await send(release, "admin", { id });
    expect(once.status).toBe(200);
    expect(await audits()).toBe(releasesBefore + 1);
    const again = await send(release, "admin", { id });
    expect(again.status).toBe(200);
    expect(holdOf(again)).toEqual(holdOf(once));
    expect(await audits()).toBe(releasesBefore + 1);
    expect((await send(list, "admin")).body.holds).toEqual([]);
    // Nothing holds the imported changes now: the next round drops them.
    await expirePartitions(pool, SECRET, { now: ahead(), archiver: null });
    expect(await changesStored()).toBe(0);
  }, 120_000);
});
