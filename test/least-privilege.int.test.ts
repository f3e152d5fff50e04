import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { roleSql } from "../lib/sources/role-sql";
import type { Worker } from "../worker/worker";
import { startTestServer, startWebStore, type TestServer } from "./support/postgres";
import { startTestWorker } from "./support/worker";

/**
 * Retrace connected as the least-privilege role its role SQL creates (REPLICATION, not a
 * superuser, owning nothing), tracking tables owned by a superuser, by a role that owns only the
 * tracked tables, and by one that owns more. Whatever it cannot do is refused with the SQL for
 * the owner, which changes nothing; once the owner ran it, saving succeeds and changes stream.
 */

const SECRET = "least-privilege-secret-0123456789-abcdef";
const RETRACE_PASSWORD = "Retrace-Pa55word-ok";
const OWNER_PASSWORD = "Owner-Pa55word-ok";

let web: Awaited<ReturnType<typeof startWebStore>> | undefined;
let store: TestServer;
let source: TestServer;
let token = "";
let routes: {
  list: typeof import("../app/api/databases/route");
  check: typeof import("../app/api/databases/check/route");
  tables: typeof import("../app/api/databases/[id]/tables/route");
};
let id = "";
let publication = "";
let worker: Worker | undefined;

type ErrorJson = { error: { code: string; message: string; details?: { fix?: string } } };
type TablesJson = { tables: { schema: string; name: string; setup: string; tracked: boolean }[] };

function request(method: string, path: string, body?: unknown): Request {
  return new Request(`http://localhost${path}`, {
    method,
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

const connection = () => ({
  host: "localhost",
  port: source.port,
  database: "shop",
  username: "retrace",
  password: RETRACE_PASSWORD,
  sslMode: "disable",
});

async function saveTables(tables: string[]): Promise<{ status: number; body: ErrorJson & { tables?: unknown[] } }> {
  const response = await routes.tables.PUT(request("PUT", `/api/databases/${id}/tables`, { tables }), {
    params: Promise.resolve({ id }),
  });
  return { status: response.status, body: (await response.json()) as ErrorJson & { tables?: unknown[] } };
}

async function setupOf(table: string): Promise<string | undefined> {
  const response = await routes.tables.GET(request("GET", `/api/databases/${id}/tables`), {
    params: Promise.resolve({ id }),
  });
  const { tables } = (await response.json()) as TablesJson;
  return tables.find((t) => `${t.schema}.${t.name}` === table)?.setup;
}

/** What saving could have changed: publication members, identities, the tracked set. */
async function state() {
  const published = await source.query<{ name: string }>(
    `select n.nspname || '.' || c.relname as name from pg_publication p
       join pg_publication_rel r on r.prpubid = p.oid join pg_class c on c.oid = r.prrelid
       join pg_namespace n on n.oid = c.relnamespace where p.pubname = $1 order by 1`,
    [publication],
    "shop",
  );
  const identities = await source.query<{ name: string; ident: string }>(
    `select c.relname::text as name, c.relreplident::text as ident from pg_class c
      where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p') order by 1`,
    [],
    "shop",
  );
  const tracked = await store.query<{ name: string }>(
    `select schema || '.' || "table" as name from tracked_tables where source_id = $1 order by 1`,
    [id],
    "retrace",
  );
  return {
    published: published.rows.map((r) => r.name),
    identities: Object.fromEntries(identities.rows.map((r) => [r.name, r.ident])),
    tracked: tracked.rows.map((r) => r.name),
  };
}

/**
 * Runs the owner SQL as it says: each statement as the role named by the last "As …" comment
 * before it, logged in as that role; steps for "a superuser" or "the role that created" Retrace's
 * role run as postgres.
 */
async function runOwnerSql(fix: string): Promise<string[]> {
  const ran: string[] = [];
  let runner = "postgres";
  for (const line of fix.split("\n")) {
    if (line.startsWith("--")) {
      const as = /\bAs "([^"]+)"/.exec(line);
      if (/\bAs\b/.test(line)) runner = as?.[1] ?? "postgres";
      continue;
    }
    if (!line.trim()) continue;
    const password = runner === "postgres" ? source.password : OWNER_PASSWORD;
    const client = new pg.Client({
      host: "localhost",
      port: source.port,
      database: "shop",
      user: runner,
      password,
    });
    await client.connect();
    try {
      await client.query(line);
      ran.push(`${runner}: ${line}`);
    } finally {
      await client.end();
    }
  }
  return ran;
}

beforeAll(async () => {
  [web, source] = await Promise.all([startWebStore(SECRET), startTestServer()]);
  store = web.server;
  const { getDb } = await import("../lib/db");
  const { createApiToken } = await import("../lib/auth/tokens");
  token = (await createApiToken(getDb(), "least-privilege")).token;
  routes = {
    list: await import("../app/api/databases/route"),
    check: await import("../app/api/databases/check/route"),
    tables: await import("../app/api/databases/[id]/tables/route"),
  };

  await source.createDatabase("shop");
  await source.query(
    `create role accounts_owner with login password '${OWNER_PASSWORD}';
     create role wide_owner with login password '${OWNER_PASSWORD}';
     create role profiles_owner with login password '${OWNER_PASSWORD}';
     grant create on schema public to accounts_owner, wide_owner, profiles_owner;
     create table public.settings (key text primary key, value text);
     create table public.events (at date not null, kind text) partition by range (at);
     create table public.events_2025 partition of public.events for values from ('2025-01-01') to ('2026-01-01');
     create table public.events_2026 partition of public.events for values from ('2026-01-01') to ('2027-01-01');
     set role accounts_owner;
     create table public.accounts (id serial primary key, email text);
     set role wide_owner;
     create table public.orders (id int primary key, total numeric);
     create table public.refunds (id int primary key);
     set role profiles_owner;
     create table public.profiles (id int primary key, bio text);
     reset role;`,
    [],
    "shop",
  );
  // The role exactly as Retrace suggests it, with a real password.
  await source.query(roleSql("shop").replace("choose-a-strong-password", RETRACE_PASSWORD), [], "shop");
  const roles = await source.query<{ rolsuper: boolean; rolreplication: boolean }>(
    "select rolsuper, rolreplication from pg_roles where rolname = 'retrace'",
  );
  expect(roles.rows[0]).toEqual({ rolsuper: false, rolreplication: true });

  const response = await routes.list.POST(request("POST", "/api/databases", { ...connection(), environment: "test" }), {
    params: Promise.resolve({}),
  });
  const created = (await response.json()) as { database: { id: string; publicationName: string } };
  expect(response.status).toBe(201);
  id = created.database.id;
  publication = created.database.publicationName;
});

afterAll(async () => {
  await worker?.stop();
  await Promise.all([web?.close(), source?.stop()]);
});

describe("the connect check with the least-privilege role", () => {
  it("names the owner of a table it cannot publish and never suggests joining it", async () => {
    const response = await routes.check.POST(
      request("POST", "/api/databases/check", { ...connection(), tables: ["public.settings", "public.orders"] }),
      { params: Promise.resolve({}) },
    );
    const body = (await response.json()) as { checks: { id: string; ok: boolean; message: string; fix?: string }[] };
    const check = body.checks.find((c) => c.id === "publication");
    expect(check?.ok).toBe(false);
    expect(check?.message).toContain("public.settings (owner postgres, a superuser)");
    expect(check?.message).toContain("public.orders (owner wide_owner)");
    expect(check?.message).toContain("Connect without them first");
    expect(JSON.stringify(body)).not.toMatch(/GRANT "(postgres|wide_owner)" TO/);
  });
});

describe("tracking tables the role does not own", () => {
  it("refuses a superuser's table with the SQL for a superuser, and changes nothing", async () => {
    const before = await state();
    expect(before).toMatchObject({ published: [], tracked: [] });
    const { status, body } = await saveTables(["public.settings", "public.events"]);
    expect(status).toBe(422);
    expect(body.error.code).toBe("insufficient_privilege");
    const fix = body.error.details?.fix ?? "";
    expect(fix).not.toMatch(/GRANT "postgres"/);
    expect(fix).toContain('"postgres" (or another superuser)');
    for (const table of ["settings", "events", "events_2025", "events_2026"]) {
      expect(fix).toContain(`ALTER TABLE "public"."${table}" REPLICA IDENTITY FULL;`);
    }
    expect(fix).toContain(`ALTER PUBLICATION "${publication}" ADD TABLE "public"."settings";`);
    expect(fix).toContain(`ALTER PUBLICATION "${publication}" ADD TABLE "public"."events";`);
    expect(fix).not.toContain('ADD TABLE "public"."events_2025"');
    expect(await state()).toEqual(before);
    expect(await setupOf("public.settings")).toBe("owner");

    await runOwnerSql(fix);
    expect(await setupOf("public.settings")).toBe("ready");
    expect(await setupOf("public.events")).toBe("ready");
    const saved = await saveTables(["public.settings", "public.events"]);
    expect(saved.status).toBe(200);
    expect(await state()).toMatchObject({
      published: ["public.events", "public.settings"],
      tracked: ["public.events", "public.settings"],
    });
  });

  it("streams the changes of a table its owner made ready (worker as the least-privilege role)", async () => {
    worker = startTestWorker({ storeUrl: web?.url ?? "" }, { secret: SECRET });
    await source.query(
      `insert into public.settings values ('theme', 'dark');
       update public.settings set value = 'light' where key = 'theme';
       insert into public.events values ('2026-03-01', 'signup');`,
      [],
      "shop",
    );
    await expect
      .poll(
        async () =>
          (
            await store.query<{ operation: string; table: string; before: string | null; after: string | null }>(
              `select operation::text, "table", before::text, after::text from changes
                where source_id = $1 order by commit_lsn, seq`,
              [id],
              "retrace",
            )
          ).rows,
        { timeout: 30_000, interval: 200 },
      )
      .toEqual([
        { operation: "CREATE", table: "settings", before: null, after: '{"key":"theme","value":"dark"}' },
        {
          operation: "UPDATE",
          table: "settings",
          before: '{"key":"theme","value":"dark"}',
          after: '{"key":"theme","value":"light"}',
        },
        { operation: "CREATE", table: "events", before: null, after: '{"at":"2026-03-01","kind":"signup"}' },
      ]);
  });

  it("has a non-superuser owner join Retrace's role just for the statements; it may also let Retrace in", async () => {
    const before = await state();
    const { status, body } = await saveTables(["public.accounts", "public.events", "public.settings"]);
    expect(status).toBe(422);
    const fix = body.error.details?.fix ?? "";
    expect(fix).toContain('GRANT "retrace" TO "accounts_owner";');
    expect(fix).toContain('REVOKE "retrace" FROM "accounts_owner";');
    // accounts_owner owns nothing but the chosen table (and its serial's sequence).
    expect(fix).toContain('-- Or, as "accounts_owner" owns nothing but tables chosen here: GRANT "accounts_owner" TO');
    expect(fix).not.toContain("settings");
    expect(await state()).toEqual(before);

    const ran = await runOwnerSql(fix);
    expect(ran).toEqual([
      'postgres: GRANT "retrace" TO "accounts_owner";',
      'accounts_owner: ALTER TABLE "public"."accounts" REPLICA IDENTITY FULL;',
      `accounts_owner: ALTER PUBLICATION "${publication}" ADD TABLE "public"."accounts";`,
      'postgres: REVOKE "retrace" FROM "accounts_owner";',
    ]);
    const member = await source.query<{ m: boolean }>("select pg_has_role('accounts_owner', 'retrace', 'MEMBER') as m");
    expect(member.rows[0]?.m).toBe(false);
    expect((await saveTables(["public.accounts", "public.events", "public.settings"])).status).toBe(200);
    expect((await state()).tracked).toEqual(["public.accounts", "public.events", "public.settings"]);
  });

  it("never suggests letting Retrace into an owner that owns more than the tracked tables", async () => {
    const tables = ["public.accounts", "public.events", "public.orders", "public.settings"];
    const before = await state();
    const { status, body } = await saveTables(tables);
    expect(status).toBe(422);
    const fix = body.error.details?.fix ?? "";
    expect(fix).not.toMatch(/GRANT "wide_owner" TO/);
    expect(fix).toContain('GRANT "retrace" TO "wide_owner";');
    expect(await state()).toEqual(before);
    await runOwnerSql(fix);
    expect((await saveTables(tables)).status).toBe(200);
    expect((await state()).identities).toMatchObject({ orders: "f", refunds: "d" });
  });

  it("publishes by itself the tables of an owner it was let into, as that alternative says", async () => {
    const tables = ["public.profiles", "public.settings"];
    const { body } = await saveTables(tables);
    expect(body.error.details?.fix).toContain('GRANT "profiles_owner" TO "retrace";');
    await source.query('GRANT "profiles_owner" TO "retrace"', [], "shop");
    expect(await setupOf("public.profiles")).toBe("automatic");
    expect((await saveTables(tables)).status).toBe(200);
    expect(await state()).toMatchObject({ published: tables, tracked: tables, identities: { profiles: "f" } });
  });

  it("drops a table it may not add again, and then asks its owner again for the publication alone", async () => {
    expect((await saveTables([])).status).toBe(200);
    expect(await state()).toMatchObject({ published: [], tracked: [] });
    const { status, body } = await saveTables(["public.settings"]);
    expect(status).toBe(422);
    expect(body.error.details?.fix).not.toContain("REPLICA IDENTITY");
    expect(body.error.details?.fix).toContain(`ALTER PUBLICATION "${publication}" ADD TABLE "public"."settings";`);
  });
});
