/**
 * An audited action and its audit row commit together: with the store refusing every audit insert (a trigger on
 * audit_events that raises), each audited write route answers 500 with the generic error and changes nothing in the
 * store; without the trigger the same request succeeds and is audited. Where the action also reaches the source
 * (connecting, removing), what it did there is undone or not done yet. The command line's `user deactivate` too.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sessionCookie } from "./support/principals";
import { startTestServer, startWebStore, type TestServer } from "./support/postgres";

const SECRET = "atomic-audit-secret-0123456789-abcdefghij";

type Handler = (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>;
type Routes = Record<string, Record<string, Handler | undefined>>;
type Answer = { status: number; body: Record<string, unknown> };

let web: Awaited<ReturnType<typeof startWebStore>> | undefined;
let store: TestServer;
let source: TestServer | undefined;
let routes: Routes;
let adminCookie = "";

async function call(
  route: string,
  method: string,
  options: { body?: unknown; params?: Record<string, string>; query?: string } = {},
): Promise<Answer> {
  const handler = routes[route]?.[method];
  if (!handler) throw new Error(`no ${method} ${route}`);
  const url = route.replace(/\[(\w+)\]/g, (_, name: string) => options.params?.[name] ?? "");
  const response = await handler(
    new Request(`http://localhost${url}${options.query ? `?${options.query}` : ""}`, {
      method,
      headers: { cookie: adminCookie, "content-type": "application/json" },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    }),
    { params: Promise.resolve(options.params ?? {}) },
  );
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const storeRows = async (sql: string, params: unknown[] = []) => (await store.query(sql, params, "retrace")).rows;
const auditCount = async (action: string) =>
  Number((await storeRows("select count(*) as n from audit_events where action = $1", [action]))[0]?.n);

/** From now until allowAudits(), the store refuses to write an audit row. */
async function refuseAudits() {
  await storeRows(`create trigger refuse_audits before insert on audit_events
                   for each row execute function refuse_audit()`);
}

async function allowAudits() {
  await storeRows("drop trigger if exists refuse_audits on audit_events");
}

/**
 * Runs `act` with audit rows refused: it must answer 500 (the generic error) and leave `state` as it was. Then runs
 * it again with audit rows allowed: it must answer `status`, change `state` and write one `action` row.
 */
async function expectAtomic(options: {
  act: () => Promise<Answer>;
  state: () => Promise<unknown>;
  action: string;
  status: number;
}) {
  const before = await options.state();
  const audited = await auditCount(options.action);
  await refuseAudits();
  let refused: Answer;
  try {
    refused = await options.act();
  } finally {
    await allowAudits();
  }
  expect(refused.status).toBe(500);
  expect(refused.body.error).toMatchObject({
    code: "internal",
    message: expect.stringMatching(/^Something went wrong/),
  });
  expect(await options.state()).toEqual(before);
  expect(await auditCount(options.action)).toBe(audited);

  const done = await options.act();
  expect(done.status, JSON.stringify(done.body)).toBe(options.status);
  expect(await options.state()).not.toEqual(before);
  expect(await auditCount(options.action)).toBe(audited + 1);
  return done;
}

async function insertDatabase(name: string): Promise<string> {
  const [row] = await storeRows(
    `insert into sources (name, host, port, database, username, password_encrypted, environment, slot_name,
                          publication_name)
     values ($1, 'localhost', 5432, $1, 'retrace', 'x', 'production', $2, $2) returning id`,
    [name, `slot_${name}`],
  );
  return String(row?.id);
}

beforeAll(async () => {
  [web, source] = await Promise.all([startWebStore(SECRET), startTestServer()]);
  store = web.server;
  await source.createDatabase("app");
  await source.query("create table items (id int primary key, name text)", [], "app");
  await storeRows(`create function refuse_audit() returns trigger language plpgsql as $$
                   begin raise exception 'audit_events refused by the test'; end $$`);
  routes = {
    "/api/users": await import("@/app/api/users/route"),
    "/api/users/[id]": await import("@/app/api/users/[id]/route"),
    "/api/tokens": await import("@/app/api/tokens/route"),
    "/api/tokens/[id]": await import("@/app/api/tokens/[id]/route"),
    "/api/retention": await import("@/app/api/retention/route"),
    "/api/holds": await import("@/app/api/holds/route"),
    "/api/holds/[id]": await import("@/app/api/holds/[id]/route"),
    "/api/databases": await import("@/app/api/databases/route"),
    "/api/databases/[id]": await import("@/app/api/databases/[id]/route"),
    "/api/databases/[id]/tables": await import("@/app/api/databases/[id]/tables/route"),
    "/api/databases/[id]/columns": await import("@/app/api/databases/[id]/columns/route"),
    "/api/databases/[id]/baselines": await import("@/app/api/databases/[id]/baselines/route"),
  } as unknown as Routes;
  const { createFirstAdmin } = await import("@/lib/auth/users");
  const { getDb } = await import("@/lib/db");
  const admin = await createFirstAdmin(getDb(), { email: "root@example.com", password: "root password" });
  adminCookie = await sessionCookie(SECRET, { id: admin.id, email: admin.email, role: "admin" });
}, 120_000);

afterAll(async () => {
  await Promise.allSettled([web?.close(), source?.stop()]);
});

describe("users and tokens", () => {
  it("a user's new role stands only with its audit row", async () => {
    const created = await call("/api/users", "POST", {
      body: { email: "ann@example.com", password: "ann password", role: "viewer" },
    });
    expect(created.status).toBe(201);
    const id = (created.body.user as { id: string }).id;
    await expectAtomic({
      act: () => call("/api/users/[id]", "PATCH", { params: { id }, body: { role: "admin" } }),
      state: () => storeRows("select role, active from users where id = $1", [id]),
      action: "user.update",
      status: 200,
    });
  });

  it("a user is created only with its audit row", async () => {
    await expectAtomic({
      act: () => call("/api/users", "POST", { body: { email: "bob@example.com", password: "bob password" } }),
      state: () => storeRows("select email from users where email = 'bob@example.com'"),
      action: "user.create",
      status: 201,
    });
  });

  it("a token is created, and revoked, only with its audit row", async () => {
    const created = await expectAtomic({
      act: () => call("/api/tokens", "POST", { body: { name: "deploy", role: "viewer" } }),
      state: () => storeRows("select name from api_tokens where name = 'deploy'"),
      action: "token.create",
      status: 201,
    });
    const id = (created.body.token as { id: string }).id;
    await expectAtomic({
      act: () => call("/api/tokens/[id]", "DELETE", { params: { id } }),
      state: () => storeRows("select revoked_at from api_tokens where id = $1", [id]),
      action: "token.revoke",
      status: 200,
    });
  });

  it("a hold is placed, and released, only with its audit row", async () => {
    await insertDatabase("held");
    const body = { database: "held", from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z", reason: "case 7" };
    const placed = await expectAtomic({
      act: () => call("/api/holds", "POST", { body }),
      state: () => storeRows("select reason from trail_holds where reason = 'case 7'"),
      action: "hold.create",
      status: 201,
    });
    const id = (placed.body.hold as { id: string }).id;
    await expectAtomic({
      act: () => call("/api/holds/[id]", "DELETE", { params: { id } }),
      state: () => storeRows("select released_at from trail_holds where id = $1", [id]),
      action: "hold.release",
      status: 200,
    });
  });

  it("`retrace user deactivate` deactivates only with its audit row", async () => {
    const created = await call("/api/users", "POST", { body: { email: "cli@example.com", password: "cli password" } });
    expect(created.status).toBe(201);
    const root = path.resolve(import.meta.dirname, "..");
    const deactivate = () =>
      spawnSync(
        process.execPath,
        [path.join(root, "bin/retrace.mjs"), "user", "deactivate", "--email", "cli@example.com"],
        {
          cwd: root,
          env: { ...process.env, DATABASE_URL: web?.url, RETRACE_SECRET: SECRET, LOG_LEVEL: "warn" },
          encoding: "utf8",
          timeout: 90_000,
        },
      );
    const active = () => storeRows("select active from users where email = 'cli@example.com'");
    await refuseAudits();
    let refused: ReturnType<typeof deactivate>;
    try {
      refused = deactivate();
    } finally {
      await allowAudits();
    }
    expect(refused.status, refused.stderr).not.toBe(0);
    expect(await active()).toEqual([{ active: true }]);
    const done = deactivate();
    expect(done.status, done.stderr).toBe(0);
    expect(await active()).toEqual([{ active: false }]);
  }, 120_000);
});

describe("retention and a database's settings", () => {
  it("retention rules change only with their audit row", async () => {
    await expectAtomic({
      act: () =>
        call("/api/retention", "PUT", { body: { rules: [{ environment: "production", table: null, days: 30 }] } }),
      state: () => storeRows(`select environment, "table", days from retention_rules`),
      action: "retention.update",
      status: 200,
    });
  });

  it("pausing stands only with its audit row", async () => {
    const id = await insertDatabase("paused");
    await expectAtomic({
      act: () => call("/api/databases/[id]", "PATCH", { params: { id }, body: { enabled: false } }),
      state: () => storeRows("select enabled from sources where id = $1", [id]),
      action: "database.update",
      status: 200,
    });
  });

  it("column rules stand only with their audit row", async () => {
    const id = await insertDatabase("masked");
    await expectAtomic({
      act: () =>
        call("/api/databases/[id]/columns", "PUT", {
          params: { id },
          body: { rules: [{ pattern: "items.name", action: "mask" }] },
        }),
      state: () => storeRows("select column_rules from sources where id = $1", [id]),
      action: "database.columns",
      status: 200,
    });
  });

  it("a baseline is requested only with its audit row", async () => {
    const id = await insertDatabase("baselined");
    await storeRows(`insert into tracked_tables (source_id, schema, "table") values ($1, 'public', 'items')`, [id]);
    await expectAtomic({
      act: () => call("/api/databases/[id]/baselines", "POST", { params: { id }, body: { table: "public.items" } }),
      state: () => storeRows(`select schema, "table" from baselines where source_id = $1`, [id]),
      action: "baseline.start",
      status: 202,
    });
  });
});

describe("a database connected and removed", () => {
  it("is connected only with its audit row, and undone at the source when that fails", async () => {
    if (!source) throw new Error("no source server");
    const atSource = async () => ({
      slots: (await source?.query("select slot_name from pg_replication_slots", [], "app"))?.rows,
      publications: (await source?.query("select pubname from pg_publication", [], "app"))?.rows,
    });
    const connect = () =>
      call("/api/databases", "POST", {
        body: {
          host: "localhost",
          port: source?.port,
          database: "app",
          username: "postgres",
          password: source?.password,
          environment: "staging",
          sslMode: "disable",
          tables: ["public.items"],
        },
      });
    const connected = await expectAtomic({
      act: connect,
      state: async () => ({
        store: await storeRows("select name from sources where database = 'app'"),
        ...(await atSource()),
      }),
      action: "database.connect",
      status: 201,
    });
    const id = (connected.body.database as { id: string }).id;

    // The store's tracked set stands only with its audit row (the publication at the source is changed before).
    await expectAtomic({
      act: () => call("/api/databases/[id]/tables", "PUT", { params: { id }, body: { tables: [] } }),
      state: () => storeRows(`select schema, "table" from tracked_tables where source_id = $1`, [id]),
      action: "database.tables",
      status: 200,
    });

    // Refused, the removal stops at its first store step (the pause): the source is not touched.
    const provisioned = await atSource();
    await expectAtomic({
      act: () => call("/api/databases/[id]", "DELETE", { params: { id } }),
      state: async () => ({
        store: await storeRows("select enabled from sources where id = $1", [id]),
        ...(await atSource()),
      }),
      action: "database.remove",
      status: 200,
    });
    expect(provisioned.slots).toHaveLength(1);
    expect(await atSource()).toEqual({ slots: [], publications: [] });
    expect(
      await storeRows("select details from audit_events where action = 'database.update' order by id desc limit 1"),
    ).toEqual([{ details: { enabled: false, removing: true } }]);
  }, 120_000);
});
