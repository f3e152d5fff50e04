import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sessionCookie } from "./support/principals";
import { startWebStore, type TestServer } from "./support/postgres";

/**
 * Sign-in attempts are limited per account and per address (through next-auth's own authorize, as the sign-in
 * form reaches it), and sessions end when idle and at their absolute limit, both as configured.
 */

const SECRET = "limits-secret-0123456789-abcdefghijklmnopq";
// Read by lib/env.ts at first use, after this file's top level.
process.env.RETRACE_SESSION_IDLE_MINUTES = "30";
process.env.RETRACE_SESSION_MAX_HOURS = "2";

type Authorize = (
  credentials: Record<string, string>,
  request: { headers: Record<string, string> },
) => Promise<unknown>;

let web: Awaited<ReturnType<typeof startWebStore>> | undefined;
let store: TestServer;
let authorize: Authorize;
let listDatabases: (request: Request, context: { params: Promise<object> }) => Promise<Response>;

function attempt(email: string, password: string, address: string): Promise<unknown> {
  return authorize({ email, password }, { headers: { "x-forwarded-for": address } });
}

async function newUser(email: string, password = "right password") {
  const { createUser } = await import("@/lib/auth/users");
  const { getDb } = await import("@/lib/db");
  return createUser(getDb(), { email, password, role: "viewer" });
}

beforeAll(async () => {
  web = await startWebStore(SECRET);
  store = web.server;
  const { authOptions } = await import("@/lib/auth/options");
  const provider = authOptions().providers[0] as unknown as { options: { authorize: Authorize } };
  authorize = provider.options.authorize;
  listDatabases = (await import("@/app/api/databases/route")).GET as typeof listDatabases;
});

afterAll(async () => {
  await web?.close();
});

describe("sign-in attempts", () => {
  it("lock an account after 5 wrong passwords, the right one included, with a clear message", async () => {
    await newUser("ann@example.com");
    expect(await attempt("ann@example.com", "right password", "198.51.100.1")).toMatchObject({ role: "viewer" });
    for (let i = 0; i < 5; i++) expect(await attempt("ann@example.com", "wrong", `198.51.100.${i + 10}`)).toBeNull();
    await expect(attempt("ANN@example.com", "right password", "198.51.100.99")).rejects.toThrow(
      /^Too many failed sign-ins\. Try again in 15 minutes\.$/,
    );
    // Another account is not affected.
    await newUser("bob@example.com");
    expect(await attempt("bob@example.com", "right password", "198.51.100.10")).not.toBeNull();
  });

  it("open again once the oldest refusals leave the 15-minute window", async () => {
    await store.query(
      "update sign_in_failures set at = now() - interval '16 minutes' where email = 'ann@example.com'",
      [],
      "retrace",
    );
    expect(await attempt("ann@example.com", "right password", "198.51.100.1")).not.toBeNull();
  });

  it("count from zero again after a successful sign-in", async () => {
    await newUser("cy@example.com");
    for (let i = 0; i < 4; i++) expect(await attempt("cy@example.com", "wrong", "198.51.100.50")).toBeNull();
    expect(await attempt("cy@example.com", "right password", "198.51.100.50")).not.toBeNull();
    for (let i = 0; i < 4; i++) expect(await attempt("cy@example.com", "wrong", "198.51.100.50")).toBeNull();
    expect(await attempt("cy@example.com", "right password", "198.51.100.50")).not.toBeNull();
  });

  it("lock an address after 20 refusals, whatever accounts it tries, and no other address", async () => {
    await newUser("dee@example.com");
    for (let i = 0; i < 20; i++) expect(await attempt(`guess${i}@example.com`, "wrong", "192.0.2.66")).toBeNull();
    await expect(attempt("dee@example.com", "right password", "192.0.2.66")).rejects.toThrow(/Too many failed/);
    expect(await attempt("dee@example.com", "right password", "192.0.2.67")).not.toBeNull();
  });
});

describe("sign-in time", () => {
  it("does not tell an unknown email or a deactivated account from a known one with a wrong password", async () => {
    const { deactivateUser } = await import("@/lib/auth/users");
    const { getDb } = await import("@/lib/db");
    const tries = 9;
    const suffix = crypto.randomUUID().slice(0, 8);
    // A fresh account and address for each try, so no limit is reached and only the password check is timed.
    const known = await Promise.all(
      Array.from({ length: tries }, (_, i) => newUser(`timed-${suffix}-${i}@example.com`)),
    );
    const deactivated = await Promise.all(
      Array.from({ length: tries }, (_, i) => newUser(`gone-${suffix}-${i}@example.com`)),
    );
    for (const user of deactivated) await deactivateUser(getDb(), user.id);
    const timings = { known: [] as number[], unknown: [] as number[], deactivated: [] as number[] };
    const kinds = ["known", "unknown", "deactivated"] as const;
    for (let i = 0; i < tries; i++) {
      for (const [k, kind] of kinds.entries()) {
        const [email, password] =
          kind === "known"
            ? [known[i]?.email ?? "", "wrong password"]
            : kind === "unknown"
              ? [`nobody-${suffix}-${i}@example.com`, "wrong password"]
              : // The right password of a deactivated account: refused all the same.
                [deactivated[i]?.email ?? "", "right password"];
        const started = performance.now();
        expect(await attempt(email, password, `10.9.${k + 1}.${i}`)).toBeNull();
        timings[kind].push(performance.now() - started);
      }
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
    // scrypt is most of a refusal (~40 ms here); without it an unknown email answered in a fifth of the time.
    expect(median(timings.unknown), JSON.stringify(timings)).toBeGreaterThan(median(timings.known) * 0.6);
    expect(median(timings.deactivated), JSON.stringify(timings)).toBeGreaterThan(median(timings.known) * 0.6);
    expect(median(timings.known), JSON.stringify(timings)).toBeGreaterThan(median(timings.deactivated) * 0.6);
  });
});

describe("sessions", () => {
  async function status(cookie: string) {
    const response = await listDatabases(new Request("http://localhost/api/databases", { headers: { cookie } }), {
      params: Promise.resolve({}),
    });
    return response.status;
  }

  async function sessionOf(email: string) {
    const user = await newUser(email);
    const cookie = await sessionCookie(SECRET, user);
    const { rows } = await store.query<{ id: string }>(
      "select id::text from sessions where user_id = $1",
      [user.id],
      "retrace",
    );
    return { cookie, id: rows[0]?.id ?? "" };
  }

  it("last RETRACE_SESSION_MAX_HOURS from sign-in", async () => {
    const { id } = await sessionOf("eve@example.com");
    const { rows } = await store.query<{ hours: string }>(
      "select round(extract(epoch from expires_at - created_at) / 3600)::text as hours from sessions where id = $1",
      [id],
      "retrace",
    );
    expect(rows).toEqual([{ hours: "2" }]);
  });

  it("end after RETRACE_SESSION_IDLE_MINUTES without a request, and a request keeps them going", async () => {
    const { cookie, id } = await sessionOf("fay@example.com");
    const idle = (minutes: number) =>
      store.query(
        "update sessions set last_seen_at = now() - make_interval(mins => $2) where id = $1",
        [id, minutes],
        "retrace",
      );
    await idle(29);
    expect(await status(cookie)).toBe(200);
    // That request was seen: the session is fresh again.
    const { rows } = await store.query<{ fresh: boolean }>(
      "select last_seen_at > now() - interval '1 minute' as fresh from sessions where id = $1",
      [id],
      "retrace",
    );
    expect(rows).toEqual([{ fresh: true }]);
    await idle(31);
    expect(await status(cookie)).toBe(401);
  });

  it("end at their absolute limit however active", async () => {
    const { cookie, id } = await sessionOf("gus@example.com");
    expect(await status(cookie)).toBe(200);
    await store.query("update sessions set expires_at = now() - interval '1 second' where id = $1", [id], "retrace");
    expect(await status(cookie)).toBe(401);
  });
});
