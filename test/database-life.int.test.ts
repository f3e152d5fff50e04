import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiToken } from "@/lib/auth/tokens";
import { decryptSecret } from "@/lib/crypto/secrets";
import { connectStore, type Store } from "@/lib/db/client";
import type { DatabaseJson, ListDatabasesResponse } from "@/lib/sources/api-types";
import type { Worker } from "@/worker/worker";
import { SECRET, startServers, type Servers } from "./support/servers";
import { waitFor as waitUntil } from "./support/wait";
import { startTestWorker } from "./support/worker";

/**
 * The life of a connected database against real servers and a real worker: the slot read at the source (WAL it
 * retains, also while paused), pause and resume losing and doubling nothing, new credentials verified before they
 * are saved and picked up by the worker, and removal keeping or deleting the captured changes.
 */

type Route = (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>;
type Routes = { list: { GET: Route; POST: Route }; one: { GET: Route; PATCH: Route; DELETE: Route }; changes: Route };

let servers: Servers;
let store: Store;
let worker: Worker | undefined;
let token: string;
let routes: Routes;
let id: string;

const FIRST_PASSWORD = "first-Pa55word-life";
const SECOND_PASSWORD = "second-Pa55word-life";

async function call(
  route: Route,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const request = new Request(`http://localhost${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const params = path.match(/^\/api\/databases\/([^/?]+)/)?.[1];
  const context: Record<string, string> = params ? { id: params } : {};
  const response = await route(request, { params: Promise.resolve(context) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function database(sourceId: string): Promise<DatabaseJson> {
  const { status, body } = await call(routes.list.GET, "GET", "/api/databases");
  expect(status).toBe(200);
  const found = (body as ListDatabasesResponse).databases.find((d) => d.id === sourceId);
  if (!found) throw new Error(`database ${sourceId} not listed`);
  return found;
}

/** waitFor with the description beside the timeout. */
function waitFor<T>(probe: () => Promise<T | null>, options: { timeoutMs: number; what: string }): Promise<T> {
  return waitUntil(options.what, probe, { timeoutMs: options.timeoutMs });
}

async function storedItems(sourceId: string): Promise<{ key: string; op: string; lsn: string; seq: number }[]> {
  return servers.storeQuery(
    `select primary_key as key, operation::text as op, commit_lsn::text as lsn, seq from changes
      where source_id = $1 order by commit_lsn, seq`,
    [sourceId],
  );
}

async function slots(): Promise<{ slot_name: string; active: boolean }[]> {
  return servers.sourceQuery("select slot_name, active from pg_replication_slots");
}

async function publications(): Promise<string[]> {
  return (await servers.sourceQuery<{ pubname: string }>("select pubname from pg_publication")).map((r) => r.pubname);
}

async function replicaIdentity(table: string): Promise<string | undefined> {
  const [row] = await servers.sourceQuery<{ ident: string }>(
    "select relreplident::text as ident from pg_class where oid = $1::regclass",
    [table],
  );
  return row?.ident;
}

beforeAll(async () => {
  servers = await startServers();
  process.env.DATABASE_URL = servers.storeUrl;
  process.env.RETRACE_SECRET = SECRET;
  await servers.sourceQuery(`
    create role life with login replication password '${FIRST_PASSWORD}';
    grant create on database app to life;
    grant create on schema public to life;
    set role life;
    create table public.items (id int primary key, name text);
    create table public.keyed (code text not null, label text);
    create unique index keyed_code on public.keyed (code);
    alter table public.keyed alter column code set not null;
    alter table public.keyed replica identity using index keyed_code;
    reset role;
  `);
  await servers.source.createDatabase("other");
  store = connectStore(servers.storeUrl, { max: 3 });
  token = (await createApiToken(store.db, "life")).token;
  routes = {
    list: (await import("@/app/api/databases/route")) as unknown as Routes["list"],
    one: (await import("@/app/api/databases/[id]/route")) as unknown as Routes["one"],
    changes: (await import("@/app/api/changes/route")).GET as Route,
  };
  const created = await call(routes.list.POST, "POST", "/api/databases", {
    name: "life",
    host: "localhost",
    port: servers.source.port,
    database: "app",
    username: "life",
    password: FIRST_PASSWORD,
    sslMode: "disable",
    environment: "staging",
    tables: ["public.items", "public.keyed"],
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  id = (created.body.database as { id: string }).id;
});

afterAll(async () => {
  await worker?.stop();
  await store?.pool.end();
  await servers?.stop();
});

describe("the databases list reads the slot at the source", () => {
  it("says how much WAL the slot retains while no worker streams the database", async () => {
    await servers.sourceQuery("insert into items select g, 'before any worker ' || g from generate_series(1, 200) g");
    const listed = await waitFor(
      async () => {
        const found = await database(id);
        return (found.slot?.slot?.pendingBytes ?? 0) > 0 ? found : null;
      },
      { timeoutMs: 20_000, what: "a slot reading with pending WAL" },
    );
    expect(listed.health.state).not.toBe("live");
    expect(listed.slot?.error).toBeNull();
    expect(listed.slot?.slot).toMatchObject({ exists: true, active: false, maxSlotWalKeepSize: "-1" });
    expect(listed.slot?.slot?.retainedBytes).toBeGreaterThanOrEqual(listed.slot?.slot?.pendingBytes ?? 0);
    expect(listed.slot?.risk?.level).toBe("ok");
    expect(listed.changesLast24h).toBe(0);
  });
});

describe("pause and resume", () => {
  it("loses nothing and doubles nothing: changes made while paused arrive once after resuming", async () => {
    worker = startTestWorker(servers);
    await waitFor(async () => ((await storedItems(id)).length === 200 ? true : null), {
      timeoutMs: 30_000,
      what: "the first 200 changes",
    });
    const paused = await call(routes.one.PATCH, "PATCH", `/api/databases/${id}`, { enabled: false });
    expect(paused.status).toBe(200);
    await waitFor(async () => ((await slots()).every((slot) => !slot.active) ? true : null), {
      timeoutMs: 20_000,
      what: "the worker letting go of the slot",
    });
    const slotBefore = await servers.sourceQuery<{ lsn: string }>(
      "select confirmed_flush_lsn::text as lsn from pg_replication_slots",
    );
    await servers.sourceQuery(`
      insert into items select g, 'while paused ' || g from generate_series(201, 260) g;
      update items set name = name || ' (edited)' where id <= 30;
      delete from items where id between 31 and 40;
    `);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect((await storedItems(id)).length).toBe(200);
    // The slot kept its place, and the list says what it holds back while paused.
    expect(
      await servers.sourceQuery<{ lsn: string }>("select confirmed_flush_lsn::text as lsn from pg_replication_slots"),
    ).toEqual(slotBefore);
    const whilePaused = await waitFor(
      async () => {
        const found = await database(id);
        return found.health.state === "paused" && (found.slot?.slot?.pendingBytes ?? 0) > 0 ? found : null;
      },
      { timeoutMs: 20_000, what: "a paused database with pending WAL" },
    );
    expect(whilePaused.slot?.slot?.active).toBe(false);

    const resumed = await call(routes.one.PATCH, "PATCH", `/api/databases/${id}`, { enabled: true });
    expect(resumed.status).toBe(200);
    const expected = 200 + 60 + 30 + 10;
    const stored = await waitFor(
      async () => {
        const rows = await storedItems(id);
        return rows.length >= expected ? rows : null;
      },
      { timeoutMs: 30_000, what: "the changes made while paused" },
    );
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const settled = await storedItems(id);
    expect(settled).toEqual(stored);
    expect(settled.length).toBe(expected);
    const keys = settled.map((row) => `${row.op}:${row.key}`);
    expect(new Set(keys.filter((k) => k.startsWith("CREATE:"))).size).toBe(260);
    expect(keys.filter((k) => k.startsWith("UPDATE:")).sort()).toEqual(
      Array.from({ length: 30 }, (_, i) => `UPDATE:${i + 1}`).sort(),
    );
    expect(keys.filter((k) => k.startsWith("DELETE:")).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `DELETE:${i + 31}`).sort(),
    );
    await waitFor(async () => ((await database(id)).changesLast24h === expected ? true : null), {
      timeoutMs: 10_000,
      what: "the 24-hour count",
    });
  });
});

describe("editing credentials", () => {
  it("checks new credentials before saving them, and the worker streams with them", async () => {
    // The password changes at the source: the worker's next session is refused.
    await call(routes.one.PATCH, "PATCH", `/api/databases/${id}`, { enabled: false });
    await waitFor(async () => ((await slots()).every((slot) => !slot.active) ? true : null), {
      timeoutMs: 20_000,
      what: "the worker letting go of the slot",
    });
    await servers.sourceQuery(`alter role life password '${SECOND_PASSWORD}'`);
    await call(routes.one.PATCH, "PATCH", `/api/databases/${id}`, { enabled: true });
    await waitFor(async () => ((await database(id)).health.state === "failing" ? true : null), {
      timeoutMs: 20_000,
      what: "the worker failing to authenticate",
    });

    const storedPassword = async () => {
      const [row] = await servers.storeQuery<{ p: string }>(
        "select password_encrypted as p from sources where id = $1",
        [id],
      );
      return decryptSecret(row?.p ?? "", SECRET);
    };
    const wrong = await call(routes.one.PATCH, "PATCH", `/api/databases/${id}`, { password: "not-the-password" });
    expect(wrong.status).toBe(422);
    expect(JSON.stringify(wrong.body)).not.toContain("not-the-password");
    expect(await storedPassword()).toBe(FIRST_PASSWORD);

    // Credentials that reach another database are refused, whatever they are.
    const elsewhere = await call(routes.one.PATCH, "PATCH", `/api/databases/${id}`, {
      database: "other",
      username: "postgres",
      password: servers.source.password,
    });
    expect(elsewhere.status).toBe(409);
    expect(await storedPassword()).toBe(FIRST_PASSWORD);

    const invalid = await call(routes.one.PATCH, "PATCH", `/api/databases/${id}`, { port: 70000 });
    expect(invalid.status).toBe(400);
    expect(JSON.stringify(invalid.body)).toContain("port");
    const halfBad = await call(routes.one.PATCH, "PATCH", `/api/databases/${id}`, { name: "half", enabled: "yes" });
    expect(halfBad.status).toBe(400);
    expect((await database(id)).name).toBe("life");

    const saved = await call(routes.one.PATCH, "PATCH", `/api/databases/${id}`, {
      name: "life (renamed)",
      password: SECOND_PASSWORD,
    });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    expect(saved.body.database).toMatchObject({ name: "life (renamed)", status: "pending" });
    expect(JSON.stringify(saved.body)).not.toContain(SECOND_PASSWORD);
    expect(await storedPassword()).toBe(SECOND_PASSWORD);

    // Audited by name, never by value.
    const [audit] = await servers.storeQuery<{ details: { changed: string[] } }>(
      "select details from audit_events where action = 'database.update' order by id desc limit 1",
    );
    expect(audit?.details.changed.sort()).toEqual(["name", "password"]);
    const audits = await servers.storeQuery<{ details: unknown }>("select details from audit_events");
    expect(JSON.stringify(audits)).not.toContain(SECOND_PASSWORD);

    const before = (await storedItems(id)).length;
    await servers.sourceQuery("insert into items values (1000, 'after the new password')");
    await waitFor(async () => ((await storedItems(id)).length === before + 1 ? true : null), {
      timeoutMs: 30_000,
      what: "a change captured with the new credentials",
    });
    expect((await database(id)).health.state).not.toBe("failing");
  });
});

describe("the WAL a slot retains", () => {
  it("warns before it threatens the source, measured against max_slot_wal_keep_size", async () => {
    await call(routes.one.PATCH, "PATCH", `/api/databases/${id}`, { enabled: false });
    await waitFor(async () => ((await slots()).every((slot) => !slot.active) ? true : null), {
      timeoutMs: 20_000,
      what: "the worker letting go of the slot",
    });
    await servers.sourceQuery("alter system set max_slot_wal_keep_size = '64MB'");
    await servers.sourceQuery("select pg_reload_conf()");
    try {
      // Each switch after a write moves the WAL on to the next 16 MB segment, which the paused slot keeps.
      for (let segment = 0; segment < 3; segment++) {
        await servers.sourceQuery(`insert into items values (${3000 + segment}, 'wal')`);
        await servers.sourceQuery("select pg_switch_wal()");
      }
      const warned = await waitFor(
        async () => {
          const found = await database(id);
          return found.slot?.risk?.level === "warning" ? found : null;
        },
        { timeoutMs: 20_000, what: "a WAL warning" },
      );
      expect(warned.slot?.slot).toMatchObject({ maxSlotWalKeepSize: "64MB", maxSlotWalKeepSizeBytes: 64 * 1024 ** 2 });
      expect(warned.slot?.slot?.retainedBytes).toBeGreaterThanOrEqual(32 * 1024 ** 2);
      expect(warned.slot?.slot?.safeWalSizeBytes).not.toBeNull();
      expect(warned.slot?.risk?.message).toContain("over half of max_slot_wal_keep_size (64MB)");
      expect(warned.health.state).toBe("paused");
    } finally {
      await servers.sourceQuery("alter system reset max_slot_wal_keep_size");
      await servers.sourceQuery("select pg_reload_conf()");
    }
    const unlimited = await waitFor(
      async () => {
        const found = await database(id);
        return found.slot?.slot?.maxSlotWalKeepSize === "-1" ? found : null;
      },
      { timeoutMs: 20_000, what: "the cap lifted" },
    );
    // Unlimited: below WAL_WARNING_BYTES the slot is no worry.
    expect(unlimited.slot?.risk?.level).toBe("ok");
    await call(routes.one.PATCH, "PATCH", `/api/databases/${id}`, { enabled: true });
    await waitFor(async () => ((await database(id)).slot?.slot?.pendingBytes === 0 ? true : null), {
      timeoutMs: 30_000,
      what: "the slot caught up",
    });
  });
});

describe("removing", () => {
  it("keeps the changes searchable under the database's name; slot and publication are gone", async () => {
    const count = (await storedItems(id)).length + 1;
    await servers.sourceQuery("insert into keyed values ('k1', 'one')");
    await waitFor(async () => ((await storedItems(id)).length === count ? true : null), {
      timeoutMs: 30_000,
      what: "the last change",
    });
    expect(await replicaIdentity("public.items")).toBe("f");
    expect(await replicaIdentity("public.keyed")).toBe("f");

    const removed = await call(routes.one.DELETE, "DELETE", `/api/databases/${id}?changes=keep`);
    expect(removed.status, JSON.stringify(removed.body)).toBe(200);
    expect(removed.body).toEqual({ id, changes: "kept", manualCleanupSql: null });
    expect(await slots()).toEqual([]);
    expect(await publications()).toEqual([]);
    // The replica identities Retrace changed are put back.
    expect(await replicaIdentity("public.items")).toBe("d");
    expect(await replicaIdentity("public.keyed")).toBe("i");

    const listed = await database(id);
    expect(listed.removedAt).not.toBeNull();
    expect(listed.health.state).toBe("removed");
    expect(listed.slot).toBeNull();
    const found = await call(routes.changes, "GET", "/api/changes?database=app&table=keyed");
    expect(found.status).toBe(200);
    expect(found.body.changes).toHaveLength(1);
    expect((found.body.changes as { environment: string }[])[0]?.environment).toBe("staging");
    const all = await call(routes.changes, "GET", `/api/changes?sourceId=${id}&limit=500`);
    expect(all.body.changes).toHaveLength(count);

    // It streams no more, and nothing can resume it.
    const resume = await call(routes.one.PATCH, "PATCH", `/api/databases/${id}`, { enabled: true });
    expect(resume.status).toBe(409);
    const [row] = await servers.storeQuery<{ p: string; enabled: boolean }>(
      "select password_encrypted as p, enabled from sources where id = $1",
      [id],
    );
    expect(row).toEqual({ p: "", enabled: false });
  });

  it("lets the same database be connected again, and removing deletes the changes when asked", async () => {
    const again = await call(routes.list.POST, "POST", "/api/databases", {
      name: "life again",
      host: "127.0.0.1",
      port: servers.source.port,
      database: "app",
      username: "life",
      password: SECOND_PASSWORD,
      sslMode: "disable",
      environment: "staging",
      tables: ["public.items"],
    });
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    const againId = (again.body.database as { id: string }).id;
    await servers.sourceQuery("insert into items values (2000, 'second life')");
    await waitFor(async () => ((await storedItems(againId)).length === 1 ? true : null), {
      timeoutMs: 30_000,
      what: "the new connection's first change",
    });
    const gone = await call(routes.one.DELETE, "DELETE", `/api/databases/${againId}?changes=delete`);
    expect(gone.body).toEqual({ id: againId, changes: "deleted", manualCleanupSql: null });
    expect(await storedItems(againId)).toEqual([]);
    expect(await slots()).toEqual([]);

    // The first one, removed with its changes kept, can have them deleted later.
    const purged = await call(routes.one.DELETE, "DELETE", `/api/databases/${id}?changes=delete`);
    expect(purged.status).toBe(200);
    expect(await storedItems(id)).toEqual([]);
    const none = await call(routes.changes, "GET", "/api/changes?database=app");
    expect(none.body.changes).toEqual([]);
    expect((await call(routes.one.GET, "GET", `/api/databases/${id}`)).status).toBe(404);

    const bad = await call(routes.one.DELETE, "DELETE", `/api/databases/${againId}?changes=maybe`);
    expect(bad.status).toBe(400);
  });
});
