import { encode, type JWT } from "next-auth/jwt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sessionSecret } from "@/lib/auth/secret";
import { startWebStore, type TestServer } from "./support/postgres";

/**
 * Sessions end on the server: API routes called with a real next-auth session cookie (a JWT
 * encrypted with the instance's key) are refused once the session it names was signed out,
 * expired, or belongs to a deactivated user or one whose password changed since.
 */

const SECRET = "sessions-secret-0123456789-abcdefghijklmn";
const PASSWORD = "correct horse battery";

let web: Awaited<ReturnType<typeof startWebStore>> | undefined;
let store: TestServer;
let lib: {
  db: ReturnType<typeof import("@/lib/db").getDb>;
  sessions: typeof import("@/lib/auth/sessions");
  users: typeof import("@/lib/auth/users");
  options: typeof import("@/lib/auth/options");
};
let list: typeof import("@/app/api/databases/route");
let apiToken = "";

type TestUser = { id: string; email: string; role: "admin" | "viewer" };

async function newUser(email: string, role: "admin" | "viewer" = "admin"): Promise<TestUser> {
  const user = await lib.users.createUser(lib.db, { email, password: PASSWORD, role });
  return { id: user.id, email: user.email, role: user.role };
}

/** Signs in the way next-auth does: the JWT callback with the user, then the cookie it would set. */
async function signIn(user: TestUser): Promise<{ cookie: string; token: JWT }> {
  const token = await lib.sessions.sessionToken(lib.db, { sub: user.id, email: user.email }, user);
  return { cookie: await cookieFor(token), token };
}

async function cookieFor(token: JWT): Promise<string> {
  const jwt = await encode({ token, secret: sessionSecret(SECRET), maxAge: lib.sessions.SESSION_MAX_AGE_SECONDS });
  return `next-auth.session-token=${jwt}`;
}

async function listStatus(cookie: string): Promise<number> {
  const response = await list.GET(new Request("http://localhost/api/databases", { headers: { cookie } }), {
    params: Promise.resolve({}),
  });
  return response.status;
}

async function connectStatus(cookie: string): Promise<number> {
  const response = await list.POST(
    new Request("http://localhost/api/databases", { method: "POST", headers: { cookie }, body: "{}" }),
    { params: Promise.resolve({}) },
  );
  return response.status;
}

beforeAll(async () => {
  web = await startWebStore(SECRET);
  store = web.server;
  const { getDb } = await import("@/lib/db");
  lib = {
    db: getDb(),
    sessions: await import("@/lib/auth/sessions"),
    users: await import("@/lib/auth/users"),
    options: await import("@/lib/auth/options"),
  };
  list = await import("@/app/api/databases/route");
  apiToken = (await (await import("@/lib/auth/tokens")).createApiToken(lib.db, "sessions")).token;
});

afterAll(async () => {
  await web?.close();
});

describe("a signed-in session", () => {
  it("is a row in the store named by the cookie, and opens the API", async () => {
    const ann = await newUser("ann@example.com");
    const { cookie, token } = await signIn(ann);
    expect(token.sid).toMatch(/^[0-9a-f-]{36}$/);
    const { rows } = await store.query<{ user_id: string; days: number }>(
      "select user_id::text, round(extract(epoch from expires_at - created_at) / 86400) as days from sessions",
      [],
      "retrace",
    );
    expect(rows).toEqual([{ user_id: ann.id, days: "7" }]);
    expect(await listStatus(cookie)).toBe(200);
  });

  it("ends at sign-out: the same cookie is refused afterwards, other sessions go on", async () => {
    const bob = await newUser("bob@example.com");
    const first = await signIn(bob);
    const second = await signIn(bob);
    await lib.options
      .authOptions()
      .events?.signOut?.({ token: first.token, session: { expires: new Date().toISOString() } });
    expect(await listStatus(first.cookie)).toBe(401);
    expect(await listStatus(second.cookie)).toBe(200);
    // Pages read the session through getServerSession, which runs the JWT callback: it refuses too.
    await expect(lib.sessions.sessionToken(lib.db, first.token)).rejects.toBeInstanceOf(lib.sessions.SessionEnded);
    await expect(lib.sessions.sessionToken(lib.db, second.token)).resolves.toMatchObject({ sub: bob.id });
  });

  it("expires", async () => {
    const cy = await newUser("cy@example.com");
    const { cookie, token } = await signIn(cy);
    expect(await listStatus(cookie)).toBe(200);
    await store.query(
      "update sessions set expires_at = now() - interval '1 second' where id = $1",
      [token.sid],
      "retrace",
    );
    expect(await listStatus(cookie)).toBe(401);
  });

  it("is refused when unknown, malformed, missing from the token, or forged", async () => {
    const dee = await newUser("dee@example.com");
    const base = { sub: dee.id, email: dee.email };
    expect(await listStatus(await cookieFor({ ...base, sid: crypto.randomUUID() }))).toBe(401);
    expect(await listStatus(await cookieFor({ ...base, sid: "not-a-uuid" }))).toBe(401);
    // A cookie from before sessions were kept: no sid.
    expect(await listStatus(await cookieFor({ ...base, role: "admin" }))).toBe(401);
    expect(await listStatus("next-auth.session-token=forged")).toBe(401);
  });

  it("ends for every session of a deactivated user, who cannot sign in again; API tokens go on", async () => {
    const eve = await newUser("eve@example.com");
    const sessions = [await signIn(eve), await signIn(eve)];
    const other = await signIn(await newUser("fay@example.com"));
    expect(await lib.users.verifyCredentials(lib.db, eve.email, PASSWORD)).not.toBeNull();

    expect(await lib.users.deactivateUser(lib.db, eve.id)).toEqual({ sessionsEnded: 2 });
    for (const { cookie } of sessions) expect(await listStatus(cookie)).toBe(401);
    expect(await lib.users.verifyCredentials(lib.db, eve.email, PASSWORD)).toBeNull();
    expect(await listStatus(other.cookie)).toBe(200);
    const withToken = await list.GET(
      new Request("http://localhost/api/databases", { headers: { authorization: `Bearer ${apiToken}` } }),
      { params: Promise.resolve({}) },
    );
    expect(withToken.status).toBe(200);
  });

  it("refuses an inactive user's session even if it was never revoked", async () => {
    const gus = await newUser("gus@example.com");
    const { cookie } = await signIn(gus);
    await store.query("update users set active = false where id = $1", [gus.id], "retrace");
    expect(await listStatus(cookie)).toBe(401);
  });

  it("ends every session begun before a password change; the new password signs in", async () => {
    const hal = await newUser("hal@example.com");
    const before = await signIn(hal);
    expect(await lib.users.changePassword(lib.db, hal.id, "a brand new password")).toEqual({ sessionsEnded: 1 });
    expect(await listStatus(before.cookie)).toBe(401);
    expect(await lib.users.verifyCredentials(lib.db, hal.email, PASSWORD)).toBeNull();
    expect(await lib.users.verifyCredentials(lib.db, hal.email, "a brand new password")).not.toBeNull();
    const after = await signIn(hal);
    expect(await listStatus(after.cookie)).toBe(200);
    await expect(lib.users.changePassword(lib.db, hal.id, "short")).rejects.toThrow(/at least 8/);
  });

  it("refuses a session older than the user's last password change even if it was never revoked", async () => {
    const ida = await newUser("ida@example.com");
    const { cookie } = await signIn(ida);
    await store.query("update users set password_changed_at = now() where id = $1", [ida.id], "retrace");
    expect(await listStatus(cookie)).toBe(401);
  });

  it("carries the user's current role, not the one at sign-in", async () => {
    const jo = await newUser("jo@example.com", "admin");
    const { cookie } = await signIn(jo);
    // An empty body is a 400 for an admin; a viewer is refused before that.
    expect(await connectStatus(cookie)).toBe(400);
    await store.query("update users set role = 'viewer' where id = $1", [jo.id], "retrace");
    expect(await connectStatus(cookie)).toBe(403);
  });
});
