import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decryptSecret } from "../lib/crypto/secrets";
import { freePort, startTestServer, startWebStore, type TestServer } from "./support/postgres";

/**
 * /api/databases end to end against real servers: a store, a logical source, and a source
 * with wal_level=replica. Route handlers are called with Bearer-token Requests.
 */

const SECRET = "integration-secret-0123456789-abcdefghij";
const OWNER_PASSWORD = "S3cret-Owner-Pa55word";

let web: Awaited<ReturnType<typeof startWebStore>> | undefined;
let store: TestServer;
let source: TestServer;
let replicaOnly: TestServer;
let token = "";

type Routes = {
  list: typeof import("../app/api/databases/route");
  check: typeof import("../app/api/databases/check/route");
  one: typeof import("../app/api/databases/[id]/route");
  tables: typeof import("../app/api/databases/[id]/tables/route");
  columns: typeof import("../app/api/databases/[id]/columns/route");
};
let routes: Routes;

function request(method: string, path: string, body?: unknown, auth: string | null = `Bearer ${token}`): Request {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (auth) headers.authorization = auth;
  return new Request(`http://localhost${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

const noParams = { params: Promise.resolve({}) };
const withId = (id: string) => ({ params: Promise.resolve({ id }) });

type ErrorJson = { error: { code: string; message: string; details?: unknown } };

async function json<T>(response: Response): Promise<{ status: number; body: T; text: string }> {
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) as T, text };
}

function connectBody(overrides: Record<string, unknown> = {}) {
  return {
    host: "localhost",
    port: source.port,
    database: "app",
    username: "app_owner",
    password: OWNER_PASSWORD,
    environment: "production",
    sslMode: "prefer",
    ...overrides,
  };
}

async function sourceState(server: TestServer, database: string) {
  const publications = await server.query<{ pubname: string }>("select pubname from pg_publication", [], database);
  const slots = await server.query<{ slot_name: string; plugin: string; database: string }>(
    "select slot_name, plugin, database from pg_replication_slots",
  );
  return { publications: publications.rows.map((r) => r.pubname), slots: slots.rows };
}

async function storeSourceCount(): Promise<number> {
  const { rows } = await store.query<{ n: number }>("select count(*)::int as n from sources", [], "retrace");
  return rows[0]?.n ?? -1;
}

async function publicationTables(pub: string): Promise<string[]> {
  const { rows } = await source.query<{ name: string }>(
    `select n.nspname || '.' || c.relname as name
       from pg_publication p join pg_publication_rel r on r.prpubid = p.oid
       join pg_class c on c.oid = r.prrelid join pg_namespace n on n.oid = c.relnamespace
      where p.pubname = $1 order by 1`,
    [pub],
    "app",
  );
  return rows.map((r) => r.name);
}

async function replicaIdentity(table: string): Promise<string | undefined> {
  const { rows } = await source.query<{ ident: string }>(
    "select relreplident::text as ident from pg_class where oid = $1::regclass",
    [table],
    "app",
  );
  return rows[0]?.ident;
}

beforeAll(async () => {
  [web, source, replicaOnly] = await Promise.all([
    startWebStore(SECRET),
    startTestServer(),
    startTestServer({ flags: ["-c", "wal_level=replica"] }),
  ]);
  store = web.server;

  const { getDb } = await import("../lib/db");
  const { createApiToken } = await import("../lib/auth/tokens");
  token = (await createApiToken(getDb(), "integration")).token;
  routes = {
    list: await import("../app/api/databases/route"),
    check: await import("../app/api/databases/check/route"),
    one: await import("../app/api/databases/[id]/route"),
    tables: await import("../app/api/databases/[id]/tables/route"),
    columns: await import("../app/api/databases/[id]/columns/route"),
  };

  await source.createDatabase("app");
  await source.query(`
    create role app_owner with login replication password '${OWNER_PASSWORD}';
    create role no_replication with login password 'plain-password-1';
    grant create on database app to app_owner, no_replication;
  `);
  await source.query(
    `grant create on schema public to app_owner;
     set role app_owner;
     create table public.items (id bigint primary key, name text);
     create table public.orders (region text, number int, total numeric, primary key (number, region) include (total));
     create table public.notes (body text);
     create table public.measurements (at date not null, value int) partition by range (at);
     create table public.measurements_2024 partition of public.measurements
       for values from ('2024-01-01') to ('2025-01-01');
     create table public.measurements_2025 partition of public.measurements
       for values from ('2025-01-01') to ('2026-01-01');
     insert into public.items select g, 'item ' || g from generate_series(1, 500) g;
     analyze public.items;`,
    [],
    "app",
  );
  await replicaOnly.createDatabase("app");
});

afterAll(async () => {
  await Promise.all([web?.close(), source?.stop(), replicaOnly?.stop()]);
});

describe("authentication", () => {
  it("answers 401 JSON to an unknown token", async () => {
    const { status, body } = await json<ErrorJson>(
      await routes.list.GET(request("GET", "/api/databases", undefined, "Bearer rt_nope"), noParams),
    );
    expect(status).toBe(401);
    expect(body.error.code).toBe("unauthorized");
  });

  it("answers 401 JSON to a POST without credentials", async () => {
    const response = await routes.list.POST(request("POST", "/api/databases", connectBody(), null), noParams);
    expect(response.status).toBe(401);
    expect(response.headers.get("content-type")).toContain("application/json");
    expect(await storeSourceCount()).toBe(0);
  });
});

describe("POST /api/databases failures", () => {
  it("rejects an invalid body with a message per field", async () => {
    const { status, body } = await json<ErrorJson>(
      await routes.list.POST(request("POST", "/api/databases", { port: "abc", environment: "Prod!" }), noParams),
    );
    expect(status).toBe(400);
    const details = body.error.details as { path: string; message: string }[];
    const byField = Object.fromEntries(details.map((d) => [d.path, d.message]));
    expect(byField.host).toBe("Host is required");
    expect(byField.port).toBe("Port must be a number between 1 and 65535");
    expect(byField.database).toBe("Database name is required");
    expect(byField.username).toBe("Username is required");
    expect(byField.password).toMatch(/Password/);
    expect(byField.environment).toMatch(/lowercase slug/);
  });

  it("rejects a body that is not JSON", async () => {
    const bad = new Request("http://localhost/api/databases", {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: "{nope",
    });
    const { status, body } = await json<ErrorJson>(await routes.list.POST(bad, noParams));
    expect(status).toBe(400);
    expect(body.error.message).toMatch(/JSON/);
  });

  it("reports an unreachable host with host and port", async () => {
    const port = await freePort();
    const { status, body } = await json<ErrorJson>(
      await routes.list.POST(request("POST", "/api/databases", connectBody({ host: "127.0.0.1", port })), noParams),
    );
    expect(status).toBe(422);
    expect(body.error.code).toBe("source_unreachable");
    expect(body.error.message).toContain(`Could not reach 127.0.0.1:${port}`);
  });

  it("reports an unknown host name", async () => {
    const { status, body } = await json<ErrorJson>(
      await routes.list.POST(
        request("POST", "/api/databases", connectBody({ host: "no-such-host.invalid" })),
        noParams,
      ),
    );
    expect(status).toBe(422);
    expect(body.error.code).toBe("source_unreachable");
    expect(body.error.message).toContain("could not be resolved");
  });

  it("reports a wrong password without echoing it", async () => {
    const wrong = "Wr0ng-Pa55word-xyz";
    const { status, body, text } = await json<ErrorJson>(
      await routes.list.POST(request("POST", "/api/databases", connectBody({ password: wrong })), noParams),
    );
    expect(status).toBe(422);
    expect(body.error.code).toBe("authentication_failed");
    expect(body.error.message).toContain('Authentication failed for user "app_owner"');
    expect(text).not.toContain(wrong);
    expect(text).not.toContain(OWNER_PASSWORD);
  });

  it("reports a database that does not exist", async () => {
    const { status, body } = await json<ErrorJson>(
      await routes.list.POST(request("POST", "/api/databases", connectBody({ database: "nope" })), noParams),
    );
    expect(status).toBe(422);
    expect(body.error.code).toBe("database_missing");
    expect(body.error.message).toBe(`Database "nope" does not exist on localhost:${source.port}.`);
  });

  it("refuses wal_level=replica with the fix, creating nothing anywhere", async () => {
    const { status, body } = await json<ErrorJson>(
      await routes.list.POST(
        request(
          "POST",
          "/api/databases",
          connectBody({ port: replicaOnly.port, username: "postgres", password: replicaOnly.password }),
        ),
        noParams,
      ),
    );
    expect(status).toBe(422);
    expect(body.error.code).toBe("wal_level_not_logical");
    expect(body.error.message).toContain('wal_level is "replica"');
    expect((body.error.details as { fix: string }).fix).toContain("ALTER SYSTEM SET wal_level = logical;");
    expect(await sourceState(replicaOnly, "app")).toEqual({ publications: [], slots: [] });
    expect(await storeSourceCount()).toBe(0);
  });

  it("refuses a user without REPLICATION with the exact GRANT, creating nothing", async () => {
    const { status, body } = await json<ErrorJson>(
      await routes.list.POST(
        request("POST", "/api/databases", connectBody({ username: "no_replication", password: "plain-password-1" })),
        noParams,
      ),
    );
    expect(status).toBe(422);
    expect(body.error.code).toBe("insufficient_privilege");
    expect((body.error.details as { fix: string }).fix).toBe(
      'Run as a superuser:\nALTER ROLE "no_replication" WITH REPLICATION;',
    );
    expect(await sourceState(source, "app")).toEqual({ publications: [], slots: [] });
    expect(await storeSourceCount()).toBe(0);
  });

  it("rejects tables that do not exist at the source, creating nothing", async () => {
    const { status, body } = await json<ErrorJson>(
      await routes.list.POST(request("POST", "/api/databases", connectBody({ tables: ["public.ghost"] })), noParams),
    );
    expect(status).toBe(400);
    expect(body.error.message).toContain("public.ghost");
    expect(await sourceState(source, "app")).toEqual({ publications: [], slots: [] });
  });
});

describe("POST /api/databases/check", () => {
  type CheckBody = {
    ok: boolean;
    checks: { id: string; ok: boolean; message: string; fix?: string }[];
    roleSql: string;
  };

  it("passes every check on a logical source and offers the role SQL", async () => {
    const { status, body } = await json<CheckBody>(
      await routes.check.POST(request("POST", "/api/databases/check", connectBody()), noParams),
    );
    expect(status).toBe(200);
    expect(body.ok).toBe(true);
    expect(body.checks.map((c) => c.id)).toEqual([
      "reachable",
      "tls",
      "authentication",
      "database",
      "version",
      "wal_level",
      "replication",
      "replication_slots",
      "wal_senders",
      "publication",
      "names",
    ]);
    expect(body.roleSql).toContain("CREATE ROLE retrace WITH LOGIN REPLICATION");
    expect(body.roleSql).toContain('GRANT SELECT ON ALL TABLES IN SCHEMA "public" TO retrace;');
    expect(await sourceState(source, "app")).toEqual({ publications: [], slots: [] });
  });

  it("fails the wal_level check with its fix", async () => {
    const { body } = await json<CheckBody>(
      await routes.check.POST(
        request(
          "POST",
          "/api/databases/check",
          connectBody({ port: replicaOnly.port, username: "postgres", password: replicaOnly.password }),
        ),
        noParams,
      ),
    );
    expect(body.ok).toBe(false);
    const wal = body.checks.find((c) => c.id === "wal_level");
    expect(wal?.ok).toBe(false);
    expect(wal?.fix).toContain("ALTER SYSTEM SET wal_level = logical;");
  });

  it("reports a failed connection as a failed first check", async () => {
    const { status, body, text } = await json<CheckBody>(
      await routes.check.POST(
        request("POST", "/api/databases/check", connectBody({ password: "Bad-Pa55word-123" })),
        noParams,
      ),
    );
    expect(status).toBe(200);
    expect(body.checks.map((c) => [c.id, c.ok])).toEqual([
      ["reachable", true],
      ["tls", true],
      ["authentication", false],
    ]);
    expect(text).not.toContain("Bad-Pa55word-123");
  });

  it("is for admins: unauthenticated calls get 401", async () => {
    const response = await routes.check.POST(
      request("POST", "/api/databases/check", connectBody(), "Bearer rt_bad"),
      noParams,
    );
    expect(response.status).toBe(401);
  });
});

describe("connecting, editing and removing a database", () => {
  let id = "";
  let pub = "";

  it("connects: publication with the table, REPLICA IDENTITY FULL, pgoutput slot, encrypted password", async () => {
    const { status, body, text } = await json<{
      database: { id: string; publicationName: string; slotName: string; name: string; trackedTableCount: number };
    }>(
      await routes.list.POST(
        request("POST", "/api/databases", connectBody({ port: String(source.port), tables: ["public.items"] })),
        noParams,
      ),
    );
    expect(status, text).toBe(201);
    expect(text).not.toContain(OWNER_PASSWORD);
    expect(text).not.toMatch(/password/i);
    id = body.database.id;
    pub = body.database.publicationName;
    expect(body.database.name).toBe("app");
    expect(pub).toBe(`retrace_${id.replaceAll("-", "")}`);
    expect(body.database.slotName).toBe(pub);
    expect(body.database.trackedTableCount).toBe(1);

    expect(await publicationTables(pub)).toEqual(["public.items"]);
    // Partitions published as themselves (a TRUNCATE of one is then sent), generated columns published.
    const options = await source.query<{ via_root: boolean; generated: string }>(
      "select pubviaroot as via_root, pubgencols::text as generated from pg_publication where pubname = $1",
      [pub],
      "app",
    );
    expect(options.rows[0]).toEqual({ via_root: false, generated: "s" });
    expect(await replicaIdentity("public.items")).toBe("f");
    const { slots } = await sourceState(source, "app");
    expect(slots).toEqual([{ slot_name: pub, plugin: "pgoutput", database: "app" }]);

    const stored = await store.query<{ password_encrypted: string; environment: string }>(
      "select password_encrypted, environment from sources where id = $1",
      [id],
      "retrace",
    );
    const encrypted = stored.rows[0]?.password_encrypted ?? "";
    expect(encrypted).not.toContain(OWNER_PASSWORD);
    expect(decryptSecret(encrypted, SECRET)).toBe(OWNER_PASSWORD);
    expect(stored.rows[0]?.environment).toBe("production");
  });

  it("refuses to connect the same database twice", async () => {
    const { status, body } = await json<ErrorJson>(
      await routes.list.POST(request("POST", "/api/databases", connectBody()), noParams),
    );
    expect(status).toBe(409);
    expect(body.error.message).toContain("already connected");
    expect((await sourceState(source, "app")).slots).toHaveLength(1);
  });

  it("lists and shows the database without any password", async () => {
    const list = await json<{
      databases: { id: string; trackedTableCount: number; status: string; lastChangeAt: string | null }[];
    }>(await routes.list.GET(request("GET", "/api/databases"), noParams));
    expect(list.status).toBe(200);
    expect(list.body.databases).toHaveLength(1);
    expect(list.body.databases[0]).toMatchObject({ id, trackedTableCount: 1, status: "pending", lastChangeAt: null });
    expect(list.text).not.toMatch(/password/i);
    expect(list.text).not.toContain(OWNER_PASSWORD);

    const detail = await json<{ database: { id: string }; tables: { schema: string; table: string }[] }>(
      await routes.one.GET(request("GET", `/api/databases/${id}`), withId(id)),
    );
    expect(detail.status).toBe(200);
    expect(detail.body.tables).toMatchObject([{ schema: "public", table: "items" }]);
    expect(detail.text).not.toMatch(/password/i);
  });

  it("answers 404 for unknown and malformed ids", async () => {
    const missing = crypto.randomUUID();
    expect((await routes.one.GET(request("GET", `/api/databases/${missing}`), withId(missing))).status).toBe(404);
    expect((await routes.one.GET(request("GET", "/api/databases/nope"), withId("nope"))).status).toBe(404);
  });

  it("lists the source's tables with keys, identity, estimates and tracking", async () => {
    const { status, body } = await json<{
      tables: {
        schema: string;
        name: string;
        primaryKey: string[];
        hasPrimaryKey: boolean;
        replicaIdentity: string;
        approxRows: number | null;
        partitioned: boolean;
        tracked: boolean;
      }[];
    }>(await routes.tables.GET(request("GET", `/api/databases/${id}/tables`), withId(id)));
    expect(status).toBe(200);
    expect(body.tables.map((t) => `${t.schema}.${t.name}`)).toEqual([
      "public.items",
      "public.measurements",
      "public.notes",
      "public.orders",
    ]);
    const byName = Object.fromEntries(body.tables.map((t) => [t.name, t]));
    expect(byName.items).toMatchObject({
      primaryKey: ["id"],
      hasPrimaryKey: true,
      replicaIdentity: "full",
      approxRows: 500,
      tracked: true,
    });
    expect(byName.orders).toMatchObject({
      primaryKey: ["number", "region"],
      replicaIdentity: "default",
      tracked: false,
    });
    expect(byName.notes).toMatchObject({ primaryKey: [], hasPrimaryKey: false, approxRows: null });
    expect(byName.measurements).toMatchObject({ partitioned: true, hasPrimaryKey: false });
  });

  it("PUT tables adds to and drops from the publication", async () => {
    const { status, body } = await json<{ tables: { schema: string; table: string }[] }>(
      await routes.tables.PUT(
        request("PUT", `/api/databases/${id}/tables`, { tables: ["public.orders", "public.measurements"] }),
        withId(id),
      ),
    );
    expect(status).toBe(200);
    expect(body.tables.map((t) => `${t.schema}.${t.table}`)).toEqual(["public.measurements", "public.orders"]);
    expect(await publicationTables(pub)).toEqual(["public.measurements", "public.orders"]);
    expect(await replicaIdentity("public.orders")).toBe("f");
    // Partitions carry their own identity: each must be FULL for full before images.
    expect(await replicaIdentity("public.measurements_2024")).toBe("f");
    expect(await replicaIdentity("public.measurements_2025")).toBe("f");

    const emptied = await routes.tables.PUT(request("PUT", `/api/databases/${id}/tables`, { tables: [] }), withId(id));
    expect(emptied.status).toBe(200);
    expect(await publicationTables(pub)).toEqual([]);

    const again = await routes.tables.PUT(
      request("PUT", `/api/databases/${id}/tables`, { tables: ["public.items"] }),
      withId(id),
    );
    expect(again.status).toBe(200);
    expect(await publicationTables(pub)).toEqual(["public.items"]);
  });

  it("PUT tables rejects unknown and malformed table names", async () => {
    const unknown = await json<ErrorJson>(
      await routes.tables.PUT(
        request("PUT", `/api/databases/${id}/tables`, { tables: ["public.items", "public.ghost"] }),
        withId(id),
      ),
    );
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toBe("Not found at the source: public.ghost.");
    const malformed = await routes.tables.PUT(
      request("PUT", `/api/databases/${id}/tables`, { tables: ["items"] }),
      withId(id),
    );
    expect(malformed.status).toBe(400);
    expect(await publicationTables(pub)).toEqual(["public.items"]);
  });

  it("PUT tables refuses a table with a virtual generated column; its writes keep working", async () => {
    await source.query(
      `set role app_owner;
       create table public.lines (id int primary key, price int, qty int, total int generated always as (price * qty))`,
      [],
      "app",
    );
    const refused = await json<ErrorJson>(
      await routes.tables.PUT(
        request("PUT", `/api/databases/${id}/tables`, { tables: ["public.items", "public.lines"] }),
        withId(id),
      ),
    );
    expect(refused.status).toBe(422);
    expect(refused.body.error.message).toContain("Retrace cannot track public.lines (total)");
    expect(refused.body.error.message).toContain("Nothing was changed.");
    expect(await publicationTables(pub)).toEqual(["public.items"]);
    expect(await replicaIdentity("public.lines")).toBe("d");
    // Tracked the way other tables are (published, REPLICA IDENTITY FULL), PostgreSQL 18 refuses its UPDATEs.
    await source.query(
      "insert into public.lines (id, price, qty) values (1, 2, 3); update public.lines set qty = 4",
      [],
      "app",
    );
    await source.query("set role app_owner; drop table public.lines", [], "app");
  });

  it("PATCH pauses and resumes", async () => {
    const paused = await json<{ database: { enabled: boolean; status: string } }>(
      await routes.one.PATCH(request("PATCH", `/api/databases/${id}`, { enabled: false }), withId(id)),
    );
    expect(paused.body.database).toMatchObject({ enabled: false, status: "paused" });
    const resumed = await json<{ database: { enabled: boolean; status: string } }>(
      await routes.one.PATCH(request("PATCH", `/api/databases/${id}`, { enabled: true }), withId(id)),
    );
    expect(resumed.body.database).toMatchObject({ enabled: true, status: "pending" });
    const invalid = await routes.one.PATCH(request("PATCH", `/api/databases/${id}`, { enabled: "yes" }), withId(id));
    expect(invalid.status).toBe(400);
  });

  it("PATCH trackNewTables: a role that may not create the event trigger gets the SQL a superuser runs", async () => {
    const on = await json<{ database: { trackNewTables: boolean } }>(
      await routes.one.PATCH(request("PATCH", `/api/databases/${id}`, { trackNewTables: true }), withId(id)),
    );
    expect(on.status, on.text).toBe(200);
    expect(on.body.database.trackNewTables).toBe(true);
    const tables = await json<{ newTables: { enabled: boolean; active: boolean; sql: string | null } }>(
      await routes.tables.GET(request("GET", `/api/databases/${id}/tables`), withId(id)),
    );
    expect(tables.body.newTables).toMatchObject({ enabled: true, active: false });
    expect(tables.body.newTables.sql).toContain("CREATE EVENT TRIGGER");
    const invalid = await json<ErrorJson>(
      await routes.one.PATCH(request("PATCH", `/api/databases/${id}`, { trackNewTables: "yes" }), withId(id)),
    );
    expect(invalid.status).toBe(400);
    expect(invalid.text).toContain("trackNewTables must be true or false");
    const off = await json<{ database: { trackNewTables: boolean } }>(
      await routes.one.PATCH(request("PATCH", `/api/databases/${id}`, { trackNewTables: false }), withId(id)),
    );
    expect(off.body.database.trackNewTables).toBe(false);
  });

  it("PUT columns stores rules, and refuses a bad pattern with a 400 naming it (changing nothing)", async () => {
    const rules = { rules: [{ pattern: "*.updated_at", action: "exclude" }], skipExcludedOnlyUpdates: true };
    const saved = await json<unknown>(
      await routes.columns.PUT(request("PUT", `/api/databases/${id}/columns`, rules), withId(id)),
    );
    expect(saved.status, saved.text).toBe(200);
    const bad = await json<ErrorJson>(
      await routes.columns.PUT(
        request("PUT", `/api/databases/${id}/columns`, { rules: [{ pattern: "updated_at", action: "exclude" }] }),
        withId(id),
      ),
    );
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('\\"updated_at\\" is not a column pattern');
    const read = await json<unknown>(
      await routes.columns.GET(request("GET", `/api/databases/${id}/columns`), withId(id)),
    );
    expect(read.body).toEqual(rules);
  });

  it("DELETE drops slot and publication, the store row and its changes", async () => {
    // changes has no foreign key to sources: another source's rows must survive the delete.
    const otherSource = "00000000-0000-4000-8000-000000000001";
    for (const sourceId of [id, id, otherSource]) {
      await store.query(
        `insert into changes (source_id, environment, database, schema, "table", operation, after,
           transaction_id, commit_lsn, seq, committed_at, queued_at)
         values ($1, 'production', 'app', 'public', 'items', 'CREATE', '{"id":1}', 1, pg_current_wal_lsn(),
           (select count(*) from changes), now(), now())`,
        [sourceId],
        "retrace",
      );
    }
    const response = await routes.one.DELETE(request("DELETE", `/api/databases/${id}`), withId(id));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ id, changes: "deleted", manualCleanupSql: null });
    expect(await sourceState(source, "app")).toEqual({ publications: [], slots: [] });
    expect(await storeSourceCount()).toBe(0);
    const { rows } = await store.query<{ source_id: string }>("select source_id::text from changes", [], "retrace");
    expect(rows).toEqual([{ source_id: otherSource }]);
    expect((await routes.one.GET(request("GET", `/api/databases/${id}`), withId(id))).status).toBe(404);
  });
});

describe("source-side provisioning", () => {
  it("undoes the publication and replica identities when the slot cannot be created", async () => {
    const { provisionSource } = await import("../lib/sources/provision");
    const client = new pg.Client({ connectionString: source.url("app") });
    await client.connect();
    try {
      await client.query("select pg_create_logical_replication_slot('retrace_taken', 'pgoutput')");
      const before = await replicaIdentity("public.notes");
      await expect(
        provisionSource(client, { slotName: "retrace_taken", publicationName: "retrace_taken" }, [
          { schema: "public", table: "notes" },
        ]),
      ).rejects.toMatchObject({ code: "conflict" });
      expect(await replicaIdentity("public.notes")).toBe(before);
      expect((await sourceState(source, "app")).publications).toEqual([]);
    } finally {
      await client.query("select pg_drop_replication_slot('retrace_taken')").catch(() => undefined);
      await client.end();
    }
  });

  it("drops a slot a walsender still holds by terminating it after the wait", async () => {
    const { provisionSource } = await import("../lib/sources/provision");
    const { deprovisionSource } = await import("../lib/sources/deprovision");
    const names = { slotName: "retrace_held", publicationName: "retrace_held" };
    const admin = new pg.Client({ connectionString: source.url("app") });
    await admin.connect();
    const holder = new pg.Client({ connectionString: `${source.url("app")}?replication=database` });
    holder.on("error", () => undefined);
    try {
      await provisionSource(admin, names, [{ schema: "public", table: "items" }]);
      await holder.connect();
      holder
        .query(`START_REPLICATION SLOT retrace_held LOGICAL 0/0 (proto_version '1', publication_names 'retrace_held')`)
        .catch(() => undefined);
      await expect
        .poll(
          async () =>
            (await admin.query("select active from pg_replication_slots where slot_name = 'retrace_held'")).rows[0]
              ?.active,
        )
        .toBe(true);
      const result = await deprovisionSource(admin, names, { activeWaitMs: 500 });
      expect(result.slotDropped).toBe(true);
      expect(result.terminatedPid).not.toBeNull();
      expect(await sourceState(source, "app")).toEqual({ publications: [], slots: [] });
    } finally {
      await holder.end().catch(() => undefined);
      await admin.end();
    }
  });
});
