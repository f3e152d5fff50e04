import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sessionCookie } from "./support/principals";
import { startTestServer, startWebStore, type TestServer } from "./support/postgres";

/**
 * Team access through the real route handlers and a real store: users (create, role, password reset,
 * deactivation, the last admin), API tokens (roles, shown once, last use, revocation), and the audit log every
 * one of those writes, read back through GET /api/audit with its filters and keyset pages.
 */

const SECRET = "team-secret-0123456789-abcdefghijklmnopqrst";
const ADDRESS = "203.0.113.7";

type Handler = (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>;
type Routes = Record<string, Record<string, Handler | undefined>>;

let web: Awaited<ReturnType<typeof startWebStore>> | undefined;
let store: TestServer;
let source: TestServer | undefined;
let routes: Routes;
let adminCookie = "";
let admin: { id: string; email: string; role: "admin" | "viewer" };

async function call(
  route: string,
  method: string,
  auth: Record<string, string>,
  options: { body?: unknown; params?: Record<string, string>; query?: string } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const handler = routes[route]?.[method];
  if (!handler) throw new Error(`no ${method} ${route}`);
  const path = route.replace(/\[(\w+)\]/g, (_, name: string) => options.params?.[name] ?? "");
  const response = await handler(
    new Request(`http://localhost${path}${options.query ? `?${options.query}` : ""}`, {
      method,
      headers: { "x-forwarded-for": `198.51.100.250, ${ADDRESS}`, "content-type": "application/json", ...auth },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    }),
    { params: Promise.resolve(options.params ?? {}) },
  );
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const asAdmin = () => ({ cookie: adminCookie });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function auditRows(action: string) {
  const { rows } = await store.query(
    "select actor_kind, actor_label, target_label, details, address from audit_events where action = $1 order by id",
    [action],
    "retrace",
  );
  return rows;
}

beforeAll(async () => {
  [web, source] = await Promise.all([startWebStore(SECRET), startTestServer()]);
  store = web.server;
  await source.createDatabase("app");
  await source.query("create table items (id int primary key, name text)", [], "app");
  routes = {
    "/api/users": await import("@/app/api/users/route"),
    "/api/users/[id]": await import("@/app/api/users/[id]/route"),
    "/api/tokens": await import("@/app/api/tokens/route"),
    "/api/tokens/[id]": await import("@/app/api/tokens/[id]/route"),
    "/api/audit": await import("@/app/api/audit/route"),
    "/api/databases": await import("@/app/api/databases/route"),
    "/api/databases/[id]": await import("@/app/api/databases/[id]/route"),
    "/api/databases/[id]/tables": await import("@/app/api/databases/[id]/tables/route"),
  } as unknown as Routes;
  const { createFirstAdmin } = await import("@/lib/auth/users");
  const { getDb } = await import("@/lib/db");
  const created = await createFirstAdmin(getDb(), { email: "root@example.com", password: "root password" });
  admin = { id: created.id, email: created.email, role: "admin" };
  adminCookie = await sessionCookie(SECRET, admin);
});

afterAll(async () => {
  await Promise.allSettled([web?.close(), source?.stop()]);
});

describe("users", () => {
  it("are created by an admin with a role and an initial password, and audited", async () => {
    const created = await call("/api/users", "POST", asAdmin(), {
      body: { email: " Vic@Example.com ", password: "viewer password", role: "viewer" },
    });
    expect(created.status).toBe(201);
    expect(created.body.user).toMatchObject({ email: "vic@example.com", role: "viewer", active: true });
    expect(JSON.stringify(created.body)).not.toContain("password");

    const again = await call("/api/users", "POST", asAdmin(), {
      body: { email: "vic@example.com", password: "another password" },
    });
    expect(again.status).toBe(409);
    const bad = await call("/api/users", "POST", asAdmin(), { body: { email: "nope", password: "short" } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/email[\s\S]*password|password[\s\S]*email/);

    const list = await call("/api/users", "GET", asAdmin());
    expect((list.body.users as { email: string }[]).map((u) => u.email)).toEqual([
      "root@example.com",
      "vic@example.com",
    ]);
    expect(await auditRows("user.create")).toEqual([
      {
        actor_kind: "user",
        actor_label: "root@example.com",
        target_label: "vic@example.com",
        details: { role: "viewer" },
        address: ADDRESS,
      },
    ]);
  });

  it("sign in with their password; a viewer browses but cannot connect databases", async () => {
    const { verifyCredentials } = await import("@/lib/auth/users");
    const { getDb } = await import("@/lib/db");
    const vic = await verifyCredentials(getDb(), "vic@example.com", "viewer password");
    if (!vic) throw new Error("vic cannot sign in");
    expect(vic).toMatchObject({ role: "viewer" });
    const cookie = await sessionCookie(SECRET, vic);
    expect((await call("/api/databases", "GET", { cookie })).status).toBe(200);
    expect((await call("/api/databases", "POST", { cookie }, { body: {} })).status).toBe(403);
    expect((await call("/api/users", "GET", { cookie })).status).toBe(403);
    expect((await call("/api/users", "POST", { cookie }, { body: {} })).status).toBe(403);
  });

  it("change role, and the new role applies to their open session at once", async () => {
    const { createUser } = await import("@/lib/auth/users");
    const { getDb } = await import("@/lib/db");
    const wes = await createUser(getDb(), { email: "wes@example.com", password: "wes password", role: "viewer" });
    const cookie = await sessionCookie(SECRET, wes);
    expect((await call("/api/users", "GET", { cookie })).status).toBe(403);
    const promoted = await call("/api/users/[id]", "PATCH", asAdmin(), {
      params: { id: wes.id },
      body: { role: "admin" },
    });
    expect(promoted).toMatchObject({ status: 200, body: { user: { role: "admin" }, sessionsEnded: 0 } });
    expect((await call("/api/users", "GET", { cookie })).status).toBe(200);
    const [event] = (await auditRows("user.update")).slice(-1);
    expect(event).toMatchObject({
      target_label: "wes@example.com",
      details: { role: { from: "viewer", to: "admin" } },
    });
  });

  it("have their password reset by an admin, which ends their sessions", async () => {
    const { createUser, verifyCredentials } = await import("@/lib/auth/users");
    const { getDb } = await import("@/lib/db");
    const xia = await createUser(getDb(), { email: "xia@example.com", password: "xia password", role: "viewer" });
    const cookie = await sessionCookie(SECRET, xia);
    expect((await call("/api/databases", "GET", { cookie })).status).toBe(200);
    const reset = await call("/api/users/[id]", "PATCH", asAdmin(), {
      params: { id: xia.id },
      body: { password: "brand new password" },
    });
    expect(reset).toMatchObject({ status: 200, body: { sessionsEnded: 1 } });
    expect((await call("/api/databases", "GET", { cookie })).status).toBe(401);
    expect(await verifyCredentials(getDb(), "xia@example.com", "xia password")).toBeNull();
    expect(await verifyCredentials(getDb(), "xia@example.com", "brand new password")).not.toBeNull();
    const [event] = (await auditRows("user.update")).slice(-1);
    expect(event?.details).toEqual({ passwordReset: true, sessionsEnded: 1 });
    expect(JSON.stringify(await auditRows("user.update"))).not.toContain("brand new password");
  });

  it("are deactivated (sessions end, no sign-in) and reactivated", async () => {
    const { createUser, verifyCredentials } = await import("@/lib/auth/users");
    const { getDb } = await import("@/lib/db");
    const yan = await createUser(getDb(), { email: "yan@example.com", password: "yan password", role: "viewer" });
    const cookie = await sessionCookie(SECRET, yan);
    const off = await call("/api/users/[id]", "PATCH", asAdmin(), { params: { id: yan.id }, body: { active: false } });
    expect(off).toMatchObject({ status: 200, body: { user: { active: false }, sessionsEnded: 1 } });
    expect((await call("/api/databases", "GET", { cookie })).status).toBe(401);
    expect(await verifyCredentials(getDb(), "yan@example.com", "yan password")).toBeNull();
    const on = await call("/api/users/[id]", "PATCH", asAdmin(), { params: { id: yan.id }, body: { active: true } });
    expect(on).toMatchObject({ status: 200, body: { user: { active: true }, sessionsEnded: 0 } });
    expect(await verifyCredentials(getDb(), "yan@example.com", "yan password")).not.toBeNull();
  });

  it("refuse bad changes with 400 naming the field, and unknown users with 404", async () => {
    const empty = await call("/api/users/[id]", "PATCH", asAdmin(), { params: { id: admin.id }, body: {} });
    expect(empty.status).toBe(400);
    const role = await call("/api/users/[id]", "PATCH", asAdmin(), { params: { id: admin.id }, body: { role: "god" } });
    expect(role.status).toBe(400);
    expect(JSON.stringify(role.body)).toContain("role");
    const unknown = await call("/api/users/[id]", "PATCH", asAdmin(), {
      params: { id: crypto.randomUUID() },
      body: { active: false },
    });
    expect(unknown.status).toBe(404);
  });
});

describe("the last admin", () => {
  it("can be neither demoted nor deactivated, and two admins demoting each other at once leave one", async () => {
    const { getDb } = await import("@/lib/db");
    const { createUser, updateUser } = await import("@/lib/auth/users");
    // Leave exactly two active admins: root and zed; each demotes the other at the same moment.
    await store.query("update users set role = 'viewer' where email <> 'root@example.com'", [], "retrace");
    const zed = await createUser(getDb(), { email: "zed@example.com", password: "zed password", role: "admin" });
    const both = await Promise.allSettled([admin.id, zed.id].map((id) => updateUser(getDb(), id, { role: "viewer" })));
    expect(both.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    const refused = both.find((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(String(refused?.reason)).toContain("last active admin");

    const { rows } = await store.query<{ id: string; email: string }>(
      "select id::text, email from users where role = 'admin' and active",
      [],
      "retrace",
    );
    expect(rows).toHaveLength(1);
    const [only] = rows;
    if (!only) throw new Error("no admin left");
    const last = { id: only.id, email: only.email, role: "admin" as const };
    const cookie = await sessionCookie(SECRET, last);
    for (const body of [{ role: "viewer" }, { active: false }]) {
      const response = await call("/api/users/[id]", "PATCH", { cookie }, { params: { id: last.id }, body });
      expect(response.status, JSON.stringify(body)).toBe(409);
      expect(JSON.stringify(response.body)).toContain("last active admin");
    }
    // Put root back as an admin for the tests that follow.
    await store.query("update users set role = 'admin', active = true where email = 'root@example.com'", [], "retrace");
  });
});

describe("API tokens", () => {
  it("are shown once, act with their role, note their last use, and stop at revocation", async () => {
    const created = await call("/api/tokens", "POST", asAdmin(), { body: { name: "exports", role: "viewer" } });
    expect(created.status).toBe(201);
    const secret = created.body.secret as string;
    const token = created.body.token as { id: string; name: string; role: string };
    expect(token).toMatchObject({ name: "exports", role: "viewer" });
    expect(secret).toMatch(/^\S{20,}$/);

    const listed = await call("/api/tokens", "GET", asAdmin());
    const text = JSON.stringify(listed.body);
    expect(text).not.toContain(secret);
    expect(text).not.toMatch(/hash/i);
    const row = (listed.body.tokens as { id: string; lastUsedAt: string | null; createdByEmail: string }[]).find(
      (t) => t.id === token.id,
    );
    expect(row).toMatchObject({ lastUsedAt: null, createdByEmail: "root@example.com" });

    expect((await call("/api/databases", "GET", bearer(secret))).status).toBe(200);
    expect((await call("/api/databases", "POST", bearer(secret), { body: {} })).status).toBe(403);
    expect((await call("/api/tokens", "POST", bearer(secret), { body: { name: "x" } })).status).toBe(403);
    const used = await call("/api/tokens", "GET", asAdmin());
    const usedRow = (used.body.tokens as { id: string; lastUsedAt: string | null }[]).find((t) => t.id === token.id);
    expect(Date.now() - Date.parse(usedRow?.lastUsedAt ?? "")).toBeLessThan(60_000);
    // Noted to the minute: the requests within it read the token and write nothing (the row version stays).
    const version = async () =>
      (await store.query("select xmin::text as v, last_used_at from api_tokens where id = $1", [token.id], "retrace"))
        .rows[0] as { v: string; last_used_at: Date };
    const noted = await version();
    for (let i = 0; i < 3; i++) expect((await call("/api/databases", "GET", bearer(secret))).status).toBe(200);
    expect(await version()).toEqual(noted);
    // A use more than a minute after the last noted one is noted.
    await store.query(
      "update api_tokens set last_used_at = now() - interval '2 minutes' where id = $1",
      [token.id],
      "retrace",
    );
    expect((await call("/api/databases", "GET", bearer(secret))).status).toBe(200);
    expect(Date.now() - (await version()).last_used_at.getTime()).toBeLessThan(60_000);

    const revoked = await call("/api/tokens/[id]", "DELETE", asAdmin(), { params: { id: token.id } });
    expect(revoked.status).toBe(200);
    expect((revoked.body.token as { revokedAt: string | null }).revokedAt).not.toBeNull();
    expect((await call("/api/databases", "GET", bearer(secret))).status).toBe(401);
    // Revoking again changes nothing and is not audited twice; an unknown token is a 404.
    expect((await call("/api/tokens/[id]", "DELETE", asAdmin(), { params: { id: token.id } })).status).toBe(200);
    expect((await call("/api/tokens/[id]", "DELETE", asAdmin(), { params: { id: crypto.randomUUID() } })).status).toBe(
      404,
    );
    expect((await call("/api/tokens/[id]", "DELETE", asAdmin(), { params: { id: "nope" } })).status).toBe(404);
    expect(await auditRows("token.revoke")).toHaveLength(1);
    expect(await auditRows("token.create")).toEqual([
      expect.objectContaining({
        actor_label: "root@example.com",
        target_label: "exports",
        details: { role: "viewer" },
      }),
    ]);
  });

  it("of the admin role may manage the team, and their actions are audited under the token's name", async () => {
    const created = await call("/api/tokens", "POST", asAdmin(), { body: { name: "provisioner", role: "admin" } });
    const secret = created.body.secret as string;
    const user = await call("/api/users", "POST", bearer(secret), {
      body: { email: "bot-made@example.com", password: "made by a bot" },
    });
    expect(user.status).toBe(201);
    expect((await auditRows("user.create")).slice(-1)[0]).toMatchObject({
      actor_kind: "token",
      actor_label: "provisioner",
      target_label: "bot-made@example.com",
    });
    expect((await call("/api/tokens", "POST", asAdmin(), { body: { name: "" } })).status).toBe(400);
    expect((await call("/api/tokens", "POST", asAdmin(), { body: { name: "x", role: "root" } })).status).toBe(400);
  });
});

describe("database writes", () => {
  it("are audited: pausing and resuming a database", async () => {
    const { rows } = await store.query<{ id: string }>(
      `insert into sources (name, host, port, database, username, password_encrypted, environment, slot_name,
                            publication_name)
       values ('shop', 'localhost', 5432, 'shop', 'retrace', 'x', 'production', 'slot_a', 'pub_a') returning id`,
      [],
      "retrace",
    );
    const id = rows[0]?.id ?? "";
    expect(
      (await call("/api/databases/[id]", "PATCH", asAdmin(), { params: { id }, body: { enabled: false } })).status,
    ).toBe(200);
    expect(
      (await call("/api/databases/[id]", "PATCH", asAdmin(), { params: { id }, body: { enabled: true } })).status,
    ).toBe(200);
    // A refused write is not audited.
    expect(
      (await call("/api/databases/[id]", "PATCH", asAdmin(), { params: { id }, body: { enabled: "x" } })).status,
    ).toBe(400);
    expect(await auditRows("database.update")).toEqual([
      expect.objectContaining({ target_label: "shop", details: { enabled: false }, address: ADDRESS }),
      expect.objectContaining({ target_label: "shop", details: { enabled: true } }),
    ]);
  });
});

describe("a database's life", () => {
  it("is audited: connected, its tables changed, removed — with what and by whom", async () => {
    if (!source) throw new Error("no source server");
    const connected = await call("/api/databases", "POST", asAdmin(), {
      body: {
        host: "localhost",
        port: source.port,
        database: "app",
        username: "postgres",
        password: source.password,
        environment: "staging",
        sslMode: "disable",
        tables: ["public.items"],
      },
    });
    expect(connected.status).toBe(201);
    const id = (connected.body.database as { id: string; name: string }).id;
    const name = (connected.body.database as { name: string }).name;
    expect(
      (await call("/api/databases/[id]/tables", "PUT", asAdmin(), { params: { id }, body: { tables: [] } })).status,
    ).toBe(200);
    expect((await call("/api/databases/[id]", "DELETE", asAdmin(), { params: { id } })).status).toBe(200);

    expect(await auditRows("database.connect")).toEqual([
      expect.objectContaining({
        actor_label: "root@example.com",
        target_label: name,
        details: { host: "localhost", port: source.port, database: "app", environment: "staging" },
        address: ADDRESS,
      }),
    ]);
    expect(await auditRows("database.tables")).toEqual([
      expect.objectContaining({ target_label: name, details: { tables: [] } }),
    ]);
    expect(await auditRows("database.remove")).toEqual([
      expect.objectContaining({
        target_label: name,
        details: { force: false, changes: "deleted", manualCleanupNeeded: false },
      }),
    ]);
    // Never a password in the log.
    expect(JSON.stringify(await auditRows("database.connect"))).not.toContain(source.password);
  });
});

describe("GET /api/audit", () => {
  type Page = {
    events: { id: string; action: string; actor: { label: string }; target: unknown }[];
    nextCursor: string | null;
  };

  it("lists newest first and filters by action, action group and actor", async () => {
    const all = (await call("/api/audit", "GET", asAdmin(), { query: "limit=200" })).body as unknown as Page;
    const ids = all.events.map((e) => BigInt(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0)));
    expect(all.events.length).toBeGreaterThanOrEqual(8);

    const exact = (await call("/api/audit", "GET", asAdmin(), { query: "action=user.create" })).body as unknown as Page;
    expect(exact.events.length).toBeGreaterThan(0);
    expect(exact.events.every((e) => e.action === "user.create")).toBe(true);

    const group = (await call("/api/audit", "GET", asAdmin(), { query: "action=token" })).body as unknown as Page;
    expect(new Set(group.events.map((e) => e.action))).toEqual(new Set(["token.create", "token.revoke"]));

    const byName = (await call("/api/audit", "GET", asAdmin(), { query: "actor=PROVISIONER" })).body as unknown as Page;
    expect(byName.events.map((e) => e.actor.label)).toEqual(["provisioner"]);
    const byId = (await call("/api/audit", "GET", asAdmin(), { query: `actor=${admin.id}` })).body as unknown as Page;
    expect(byId.events.length).toBe(all.events.filter((e) => e.actor.label === "root@example.com").length);
  });

  it("pages by keyset: every event once, in order, whatever the page size", async () => {
    const all = (await call("/api/audit", "GET", asAdmin(), { query: "limit=200" })).body as unknown as Page;
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `limit=3${cursor ? `&cursor=${cursor}` : ""}`;
      const page = (await call("/api/audit", "GET", asAdmin(), { query })).body as unknown as Page;
      expect(page.events.length).toBeLessThanOrEqual(3);
      seen.push(...page.events.map((e) => e.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.events.map((e) => e.id));
  });

  it("refuses a bad parameter with a 400 that names it", async () => {
    for (const [query, name] of [
      ["action=user.explode", "action"],
      ["limit=0", "limit"],
      ["cursor=abc", "cursor"],
      ["actor=a&actor=b", "actor"],
      ["colour=red", "colour"],
    ] as const) {
      const response = await call("/api/audit", "GET", asAdmin(), { query });
      expect(response.status, query).toBe(400);
      expect(JSON.stringify(response.body), query).toContain(name);
    }
  });
});
