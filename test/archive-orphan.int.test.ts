/**
 * Archives of a database the store no longer has (deleted with its changes) or never had (another store with the
 * same secret), against real servers and the real worker: the import recreates the database, removed with its
 * changes kept, under the archive's id, name and environment; its changes come back byte for byte, listed and with
 * their record history; `retrace verify` passes on them; importing twice adds nothing; an older archive imported
 * after a newer one is sealed in.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiToken } from "@/lib/auth/tokens";
import { connectStore, type Store } from "@/lib/db/client";
import { migrateStore } from "@/lib/db/migrate";
import { removeDatabase } from "@/lib/sources/remove";
import type { Worker } from "@/worker/worker";
import { addSource, SECRET, startServers, type Servers } from "./support/servers";
import { waitFor } from "./support/wait";
import { startTestWorker } from "./support/worker";

const root = path.resolve(import.meta.dirname, "..");
type Route = (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>;
type Listed = { id: string; sourceId: string; sourceName: string | null; environment: string; database: string };

const NAME = "Shop (archived)";
let servers: Servers;
let worker: Worker | undefined;
let sourceId: string;
let store: Store;
let token: string;
let work: string;
let secondUrl: string;
const ranges: { from: Date; to: Date; dir: string; text: string[] }[] = [];

function retrace(args: string[], url = servers.storeUrl) {
  const result = spawnSync(process.execPath, [path.join(root, "bin/retrace.mjs"), ...args], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: url, RETRACE_SECRET: SECRET, LOG_LEVEL: "warn" },
    encoding: "utf8",
    timeout: 90_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function query<T extends pg.QueryResultRow>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** The database's stored changes, every column, as PostgreSQL prints the row. */
async function trailText(url: string, range?: { from: Date; to: Date }): Promise<string[]> {
  const rows = await query<{ c: string }>(
    url,
    `select c::text as c from changes c where source_id = $1 and ($2::timestamptz is null or committed_at >= $2)
        and ($3::timestamptz is null or committed_at < $3) order by id`,
    [sourceId, range?.from ?? null, range?.to ?? null],
  );
  return rows.map((row) => row.c);
}

async function getJson<T = { changes: Listed[]; nextCursor: string | null }>(route: string, params = ""): Promise<T> {
  const routes: Record<string, () => Promise<{ GET: unknown }>> = {
    changes: () => import("@/app/api/changes/route"),
    "records/history": () => import("@/app/api/records/history/route"),
    databases: () => import("@/app/api/databases/route"),
  };
  const load = routes[route];
  if (!load) throw new Error(`no route ${route}`);
  const handler = (await load()).GET as Route;
  const response = await handler(
    new Request(`http://localhost/api/${route}?${params}`, { headers: { authorization: `Bearer ${token}` } }),
    { params: Promise.resolve({}) },
  );
  expect(response.status).toBe(200);
  return (await response.json()) as T;
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "retrace-archive-orphan-"));
  servers = await startServers();
  await servers.sourceQuery(`
    create table items (id int primary key, name text, doc jsonb, price numeric);
    alter table items replica identity full;
    create publication retrace_pub for table items;`);
  await servers.sourceQuery("select pg_create_logical_replication_slot('retrace_orphan', 'pgoutput')");
  sourceId = await addSource(servers, {
    slotName: "retrace_orphan",
    publicationName: "retrace_pub",
    environment: "staging",
  });
  await servers.storeQuery("update sources set name = $2 where id = $1", [sourceId, NAME]);
  worker = startTestWorker(servers, { sealIntervalMs: 100, partitionIntervalMs: 3_600_000 });
  process.env.DATABASE_URL = servers.storeUrl;
  process.env.RETRACE_SECRET = SECRET;
  store = connectStore(servers.storeUrl, { max: 2 });
  token = (await createApiToken(store.db, "orphan")).token;

  // Two ranges, archived apart: the older one is imported last.
  for (const [i, sql] of [
    `insert into items select g, 'item ' || g, jsonb_build_object('n', g), g * 1.5 from generate_series(1, 300) g;
     update items set name = 'renamed', doc = '{"big": 123456789012345678901234567890}' where id = 2`,
    `update items set price = 9.99 where id <= 2; delete from items where id = 3;
     insert into items values (1000, 'Zoë "quoted" \\ back', null, null)`,
  ].entries()) {
    await sleep(1_100);
    const from = new Date();
    await servers.sourceQuery(sql);
    await sleep(50);
    ranges.push({ from, to: new Date(), dir: path.join(work, `range${i}`), text: [] });
  }
  await waitFor("every change stored and sealed", async () => {
    const [row] = await servers.storeQuery<{ changes: number; sealed: number }>(
      `select (select count(*)::int from changes where source_id = $1) as changes,
              (select count(*)::int from change_seals where source_id = $1) as sealed`,
      [sourceId],
    );
    return row?.changes === 305 && row.sealed === 305;
  });
  for (const range of ranges) {
    range.text = await trailText(servers.storeUrl, range);
    const run = retrace([
      "archive",
      "export",
      "--database",
      NAME,
      "--from",
      range.from.toISOString(),
      "--to",
      range.to.toISOString(),
      "--dir",
      range.dir,
    ]);
    expect(run.status, run.stderr).toBe(0);
  }
  expect(ranges.map((range) => range.text.length)).toEqual([301, 4]);
  await worker.stop();
  worker = undefined;
  secondUrl = await servers.store.createDatabase("retrace_second");
  await migrateStore(secondUrl);
}, 240_000);

afterAll(async () => {
  await worker?.stop();
  await store?.pool.end();
  const { getStore } = await import("@/lib/db");
  await getStore()
    .pool.end()
    .catch(() => undefined);
  await servers?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe("archive import of a database the store does not have", () => {
  it("recreates a database deleted with its changes, removed, and brings its changes back", async () => {
    const all = await trailText(servers.storeUrl);
    const removed = await removeDatabase(
      store.db,
      SECRET,
      sourceId,
      { changes: "delete", force: true },
      { kind: "cli", osUser: "test" },
    );
    expect(removed.changes).toBe("deleted");
    expect(await trailText(servers.storeUrl)).toEqual([]);
    // Connected again since, under the same name: a second database named so, with another id.
    const again = await addSource(servers, { slotName: "retrace_again", publicationName: "retrace_pub" });
    await servers.storeQuery("update sources set name = $2 where id = $1", [again, NAME]);

    const [older, newer] = ranges;
    if (!older || !newer) throw new Error("no ranges");
    const run = retrace(["archive", "import", newer.dir]);
    expect(run.status, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toContain("4 of 4 changes stored");
    expect(run.stdout).toContain(`Database ${NAME} (${sourceId}) was not in this store: recreated`);
    expect(await trailText(servers.storeUrl)).toEqual(newer.text);
    const [row] = await servers.storeQuery(
      `select name, environment, database, host, password_encrypted, enabled, status::text, removed_at is not null
              as removed, (select count(*)::int from tracked_tables t where t.source_id = s.id) as tracked
         from sources s where id = $1`,
      [sourceId],
    );
    expect(row).toEqual({
      name: NAME,
      environment: "staging",
      database: "app",
      host: "",
      password_encrypted: "",
      enabled: false,
      status: "paused",
      removed: true,
      tracked: 0,
    });
    const [audit] = await servers.storeQuery<{ target_id: string; target_label: string; details: object }>(
      "select target_id, target_label, details from audit_events where action = 'archive.import' order by id",
    );
    expect(audit).toMatchObject({
      target_id: sourceId,
      target_label: NAME,
      details: { count: 4, inserted: 4, recreated: true, resealed: false },
    });
    // Verified from its import on: the store seals what it brought.
    const verified = retrace(["verify", "--database", sourceId]);
    expect(verified.stdout).toContain(`OK ${NAME} (${sourceId}): 4 changes verified`);
    expect(verified.status).toBe(0);
    // By name: the two databases of that name are each verified; by its id in capitals, the one. An export by that
    // name asks for one's id.
    expect(retrace(["verify", "--database", NAME]).status).toBe(0);
    expect(retrace(["verify", "--database", sourceId.toUpperCase()]).stdout).toContain(`OK ${NAME} (${sourceId})`);
    const ambiguous = retrace([
      "archive",
      "export",
      "--database",
      NAME,
      "--from",
      "2026-01-01",
      "--to",
      "2026-01-02",
      "--dir",
      path.join(work, "ambiguous"),
    ]);
    expect(ambiguous.status).toBe(1);
    expect(ambiguous.stderr).toContain(`2 databases are named "${NAME}"; give one's id: ${again}, ${sourceId}`);

    // The older archive, imported after the newer one: its changes come before the chain the first import sealed,
    // which is sealed again from the start if it verifies. Altered in the store since, it is not: nothing imported.
    const [target] = await servers.storeQuery<{ id: string; after: string }>(
      "select id::text, after::text from changes where source_id = $1 and operation = 'CREATE'",
      [sourceId],
    );
    await servers.storeQuery(`update changes set after = '{"id": 1000}' where id = $1`, [target?.id]);
    const refused = retrace(["archive", "import", older.dir]);
    expect(refused.status).toBe(1);
    expect(refused.stdout).toContain(`REFUSED ${path.join(older.dir, "manifest.json")}: Change `);
    expect(refused.stdout).toContain(`and that chain does not verify (Change ${target?.id} (items, key 1000) differs`);
    expect(refused.stdout).toContain("nothing was imported");
    await servers.storeQuery("update changes set after = $2::json where id = $1", [target?.id, target?.after]);
    expect(await trailText(servers.storeUrl)).toEqual(newer.text);

    const second = retrace(["archive", "import", older.dir]);
    expect(second.status, second.stderr + second.stdout).toBe(0);
    expect(second.stdout).toContain("301 of 301 changes stored");
    expect(second.stdout).toContain("sealed again from the start");
    expect(second.stdout).not.toContain("recreated");
    expect(await trailText(servers.storeUrl)).toEqual(all);
    const both = retrace(["verify", "--database", sourceId]);
    expect(both.stdout).toContain(`OK ${NAME} (${sourceId}): 305 changes verified`);
    expect(both.status).toBe(0);

    // Listed with its name and environment, under its removed database; a record's history too.
    const listed = await getJson("changes", `sourceId=${sourceId}&limit=500`);
    expect(listed.changes).toHaveLength(305);
    expect(new Set(listed.changes.map((c) => `${c.sourceName}/${c.environment}/${c.database}`))).toEqual(
      new Set([`${NAME}/staging/app`]),
    );
    const staging = await getJson("changes", "environment=staging&limit=500");
    expect(staging.changes).toHaveLength(305);
    const history = await getJson("records/history", `table=items&primaryKey=2&sourceId=${sourceId}`);
    expect(history.changes.map((c) => c.id)).toHaveLength(3);
    const databases = await getJson<{ databases: { id: string; removedAt: string | null }[] }>("databases");
    expect(databases.databases.find((d) => d.id === sourceId)?.removedAt).toEqual(expect.any(String));

    // Twice: nothing more, no second database, no second hold.
    const holds = await servers.storeQuery("select id from trail_holds where source_id = $1", [sourceId]);
    expect(holds).toHaveLength(2);
    for (const range of [older, newer]) {
      const twice = retrace(["archive", "import", range.dir]);
      expect(twice.status).toBe(0);
      expect(twice.stdout).toContain(`0 of ${range.text.length} change`);
      expect(twice.stdout).toContain("Already held from expiry");
    }
    expect(await trailText(servers.storeUrl)).toEqual(all);
    expect(await servers.storeQuery("select id from trail_holds where source_id = $1", [sourceId])).toEqual(holds);
    const [count] = await servers.storeQuery<{ n: number }>("select count(*)::int as n from sources");
    expect(count?.n).toBe(2);
    expect(retrace(["verify", "--database", sourceId]).status).toBe(0);
  });

  it("imports into a second, empty store with the same secret", async () => {
    for (const range of ranges) {
      const run = retrace(["archive", "import", range.dir], secondUrl);
      expect(run.status, run.stderr + run.stdout).toBe(0);
    }
    const all = ranges.flatMap((range) => range.text);
    expect(await trailText(secondUrl)).toEqual(all);
    const [row] = await query(secondUrl, "select name, environment, removed_at is not null as removed from sources");
    expect(row).toEqual({ name: NAME, environment: "staging", removed: true });
    const verified = retrace(["verify", "--database", NAME], secondUrl);
    expect(verified.stdout).toContain(`OK ${NAME} (${sourceId}): 305 changes verified`);
    expect(verified.status).toBe(0);

    const twice = retrace(["archive", "import", work], secondUrl);
    expect(twice.status).toBe(0);
    expect(twice.stdout).not.toContain("recreated");
    expect(await trailText(secondUrl)).toEqual(all);
    const [counts] = await query<{ sources: number; holds: number }>(
      secondUrl,
      "select (select count(*)::int from sources) as sources, (select count(*)::int from trail_holds) as holds",
    );
    expect(counts).toEqual({ sources: 1, holds: 2 });
  });

  it("keeps an import whose sealing fails after it, says so, and seals at the next chance", async () => {
    const thirdUrl = await servers.store.createDatabase("retrace_third");
    await migrateStore(thirdUrl);
    await query(
      thirdUrl,
      `create function refuse_seals() returns trigger language plpgsql as
         $$ begin raise exception 'seals refused by the test'; end $$;
       create trigger refuse_seals before insert on change_seals for each statement execute function refuse_seals()`,
    );
    const [older] = ranges;
    const run = retrace(["archive", "import", older?.dir ?? ""], thirdUrl);
    expect(run.status, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toContain("301 of 301 changes stored");
    expect(run.stdout).toContain("Sealing them failed after the import (seals refused by the test)");
    expect(await trailText(thirdUrl)).toEqual(older?.text);
    expect(await query(thirdUrl, "select count(*)::int as n from change_seals")).toEqual([{ n: 0 }]);

    await query(thirdUrl, "drop trigger refuse_seals on change_seals");
    const again = retrace(["archive", "import", older?.dir ?? ""], thirdUrl);
    expect(again.status, again.stderr + again.stdout).toBe(0);
    expect(again.stdout).not.toContain("Sealing them failed");
    const verified = retrace(["verify", "--database", NAME], thirdUrl);
    expect(verified.stdout).toContain(`OK ${NAME} (${sourceId}): 301 changes verified`);
  });
});
