import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nextAuthSignIn, nextAuthSignOut, type Cookie } from "./support/next-auth";
import { startWebStore, type TestServer } from "./support/postgres";

/**
 * Sign-ins, refused sign-ins and sign-outs land in the audit log, through next-auth's own handler with Retrace's
 * options (as /api/auth runs it): who, from which address, and for a refusal the email tried and the reason in
 * general terms, never the password. A failing audit write does not stop anyone signing in.
 */

const SECRET = "signin-audit-secret-0123456789-abcdefghijk";
const ORIGIN = "http://localhost:3000";
const PASSWORD = "correct horse battery";

let web: Awaited<ReturnType<typeof startWebStore>> | undefined;
let store: TestServer;
const savedUrl = process.env.NEXTAUTH_URL;

type Row = {
  action: string;
  actor_kind: string;
  actor_id: string | null;
  actor_label: string;
  target_type: string | null;
  details: Record<string, unknown>;
  address: string | null;
};

async function auditRows(action: string, label: string): Promise<Row[]> {
  const result = await store.query(
    `select action, actor_kind, actor_id, actor_label, target_type, details, address
       from audit_events where action = $1 and actor_label = $2 order by id`,
    [action, label],
    "retrace",
  );
  return result.rows as Row[];
}

async function newUser(email: string, role: "admin" | "viewer" = "viewer") {
  const { createUser } = await import("@/lib/auth/users");
  const { getDb } = await import("@/lib/db");
  return createUser(getDb(), { email, password: PASSWORD, role });
}

const sessionOf = (cookies: Cookie[]) => cookies.find((c) => c.name === "next-auth.session-token" && c.value);

beforeAll(async () => {
  process.env.NEXTAUTH_URL = ORIGIN;
  web = await startWebStore(SECRET);
  store = web.server;
});

afterAll(async () => {
  if (savedUrl === undefined) delete process.env.NEXTAUTH_URL;
  else process.env.NEXTAUTH_URL = savedUrl;
  await web?.close();
});

describe("the audit log of sign-ins", () => {
  it("notes a sign-in as the user, with the address the rate limiter uses", async () => {
    const ann = await newUser("ann@example.com", "admin");
    const signedIn = await nextAuthSignIn(ORIGIN, { email: "Ann@Example.com", password: PASSWORD }, "203.0.113.7");
    expect(sessionOf(signedIn.cookies)).toBeDefined();
    const rows = await auditRows("session.sign_in", "ann@example.com");
    expect(rows).toEqual([
      {
        action: "session.sign_in",
        actor_kind: "user",
        actor_id: ann.id,
        actor_label: "ann@example.com",
        target_type: null,
        details: {},
        address: "203.0.113.7",
      },
    ]);
  });

  it("notes a sign-out as the user, with their address, once per session", async () => {
    const bea = await newUser("bea@example.com");
    const { cookies } = await nextAuthSignIn(ORIGIN, { email: "bea@example.com", password: PASSWORD }, "203.0.113.8");
    expect(sessionOf(cookies)).toBeDefined();
    expect(await auditRows("session.sign_out", "bea@example.com")).toEqual([]);
    const signedOut = await nextAuthSignOut(ORIGIN, cookies, "203.0.113.9");
    expect(signedOut.cookies.find((c) => c.name === "next-auth.session-token")?.value).toBe("");
    const expected = [{ actor_kind: "user", actor_id: bea.id, details: {}, address: "203.0.113.9" }];
    expect(await auditRows("session.sign_out", "bea@example.com")).toMatchObject(expected);
    // The same cookie, replayed by whoever copied it, ends nothing: no second sign-out.
    await nextAuthSignOut(ORIGIN, cookies, "203.0.113.66");
    expect(await auditRows("session.sign_out", "bea@example.com")).toMatchObject(expected);
  });

  it("notes each refusal with the email tried and the reason, never the password, and no session", async () => {
    const { deactivateUser } = await import("@/lib/auth/users");
    const { getDb } = await import("@/lib/db");
    await newUser("cy@example.com");
    const dee = await newUser("dee@example.com");
    await deactivateUser(getDb(), dee.id);
    const tries = [
      { email: "cy@example.com", password: "not the password 1", reason: "wrong password" },
      { email: "nobody@example.com", password: "not the password 2", reason: "no such user" },
      // The right password of a deactivated account.
      { email: "dee@example.com", password: PASSWORD, reason: "deactivated" },
    ];
    for (const attempt of tries) {
      const result = await nextAuthSignIn(ORIGIN, attempt, "198.51.100.4");
      expect(sessionOf(result.cookies), attempt.email).toBeUndefined();
      expect(result.body?.url, attempt.email).toMatch(/error=CredentialsSignin/);
      expect(await auditRows("session.sign_in_failed", attempt.email)).toEqual([
        {
          action: "session.sign_in_failed",
          actor_kind: "anonymous",
          actor_id: null,
          actor_label: attempt.email,
          target_type: null,
          details: { reason: attempt.reason },
          address: "198.51.100.4",
        },
      ]);
    }
    const all = JSON.stringify((await store.query("select * from audit_events", [], "retrace")).rows);
    expect(all).not.toContain("not the password");
    expect(all).not.toContain(PASSWORD);
    // A refusal is never noted as a sign-in.
    expect(await auditRows("session.sign_in", "dee@example.com")).toEqual([]);
  });

  it("notes a refusal by the sign-in limit as rate limited, the right password included", async () => {
    await newUser("eve@example.com");
    for (let i = 0; i < 5; i++) {
      await nextAuthSignIn(ORIGIN, { email: "eve@example.com", password: `wrong ${i}` }, "198.51.100.5");
    }
    const limited = await nextAuthSignIn(ORIGIN, { email: "eve@example.com", password: PASSWORD }, "198.51.100.5");
    expect(sessionOf(limited.cookies)).toBeUndefined();
    expect(decodeURIComponent(limited.body?.url ?? "")).toMatch(/Too many failed sign-ins/);
    const reasons = (await auditRows("session.sign_in_failed", "eve@example.com")).map((row) => row.details.reason);
    expect(reasons).toEqual([...Array(5).fill("wrong password"), "rate limited"]);
  });

  it("lets the sign-in through when the audit write fails", async () => {
    await newUser("fay@example.com");
    await store.query(
      `create function refuse_audit() returns trigger language plpgsql as $$
         begin raise exception 'audit log unavailable'; end $$;
       create trigger refuse_audit before insert on audit_events for each row execute function refuse_audit();`,
      [],
      "retrace",
    );
    try {
      const signedIn = await nextAuthSignIn(ORIGIN, { email: "fay@example.com", password: PASSWORD }, "203.0.113.10");
      expect(sessionOf(signedIn.cookies)).toBeDefined();
      const refused = await nextAuthSignIn(ORIGIN, { email: "fay@example.com", password: "wrong" }, "203.0.113.10");
      expect(refused.body?.url).toMatch(/error=CredentialsSignin/);
      const signedOut = await nextAuthSignOut(ORIGIN, signedIn.cookies, "203.0.113.10");
      expect(signedOut.cookies.find((c) => c.name === "next-auth.session-token")?.value).toBe("");
    } finally {
      await store.query("drop trigger refuse_audit on audit_events; drop function refuse_audit()", [], "retrace");
    }
    expect(await auditRows("session.sign_in", "fay@example.com")).toEqual([]);
  });
});

/** The email's refusals by the limit (the rolled-up rows), oldest first. */
async function limitedRows(email: string) {
  const rows = await auditRows("session.sign_in_failed", email);
  return rows.filter((row) => row.details.reason === "rate limited");
}

/** Five wrong passwords for `email` from `address`: the account's limit is reached. */
async function reachLimit(email: string, address: string) {
  for (let i = 0; i < 5; i++) {
    const result = await nextAuthSignIn(ORIGIN, { email, password: `wrong ${i}` }, address);
    expect(result.body?.url).toMatch(/error=CredentialsSignin/);
  }
}

async function limitedSignIn(email: string, address: string, password = "wrong again") {
  const result = await nextAuthSignIn(ORIGIN, { email, password }, address);
  expect(sessionOf(result.cookies)).toBeUndefined();
  expect(decodeURIComponent(result.body?.url ?? "")).toMatch(/Too many failed sign-ins/);
}

/**
 * Rolled-up rows are per window of the limit counted from the epoch on the store's clock: a test whose refusals
 * must land in one window starts a new one when less than a minute of the current one is left.
 */
async function awayFromWindowEdge() {
  const { SIGN_IN_LIMITS } = await import("@/lib/auth/rate-limit");
  const [{ left }] = (
    await store.query(
      "select $1::int - extract(epoch from now())::numeric % $1::int as left",
      [SIGN_IN_LIMITS.windowMinutes * 60],
      "retrace",
    )
  ).rows as [{ left: string }];
  if (Number(left) < 60) await new Promise((resolve) => setTimeout(resolve, (Number(left) + 1) * 1000));
}

describe("a flood of refused sign-ins", () => {
  it("is one rate-limited row per email and address in the limit's window, counting every refusal", async () => {
    await newUser("flo@example.com");
    await awayFromWindowEdge();
    await reachLimit("flo@example.com", "192.0.2.10");
    for (let i = 0; i < 200; i++) await limitedSignIn("flo@example.com", "192.0.2.10", i % 2 ? PASSWORD : "wrong");
    const [row, ...more] = await limitedRows("flo@example.com");
    expect(more).toEqual([]);
    expect(row).toMatchObject({ actor_kind: "anonymous", address: "192.0.2.10" });
    expect(row?.details).toEqual({ reason: "rate limited", count: 200, lastAt: expect.any(String) });
    const [{ at }] = (
      await store.query(
        `select at from audit_events where actor_label = 'flo@example.com' and details->>'reason' = 'rate limited'`,
        [],
        "retrace",
      )
    ).rows as [{ at: Date }];
    const lastAt = new Date(String(row?.details.lastAt));
    expect(lastAt.getTime()).toBeGreaterThan(at.getTime());
    expect(lastAt.getTime()).toBeLessThanOrEqual(Date.now() + 60_000);
    // The refusals under the limit stay one row each.
    const reasons = (await auditRows("session.sign_in_failed", "flo@example.com")).map((r) => r.details.reason);
    expect(reasons).toEqual([...Array(5).fill("wrong password"), "rate limited"]);

    // The same account tried from a second address (the account's limit refuses it there too): a row of its own.
    for (let i = 0; i < 3; i++) await limitedSignIn("flo@example.com", "192.0.2.11");
    const rows = await limitedRows("flo@example.com");
    expect(rows.map((r) => [r.address, r.details.count])).toEqual([
      ["192.0.2.10", 200],
      ["192.0.2.11", 3],
    ]);
  });

  it("is one row per address when the address's limit refuses, whatever email each request tries", async () => {
    const { SIGN_IN_LIMITS } = await import("@/lib/auth/rate-limit");
    await awayFromWindowEdge();
    const address = "192.0.2.40";
    for (let i = 0; i < SIGN_IN_LIMITS.address; i++) {
      const result = await nextAuthSignIn(ORIGIN, { email: `spray${i}@example.com`, password: "wrong" }, address);
      expect(result.body?.url).toMatch(/error=CredentialsSignin/);
    }
    for (let i = 0; i < 100; i++) await limitedSignIn(`sprayed${i}@example.com`, address);
    const { rows } = await store.query(
      `select actor_label, details from audit_events
        where action = 'session.sign_in_failed' and address = $1 and details->>'reason' = 'rate limited'`,
      [address],
      "retrace",
    );
    expect(rows).toEqual([
      {
        actor_label: "sprayed0@example.com",
        details: { reason: "rate limited", limit: "address", count: 100, lastAt: expect.any(String) },
      },
    ]);
  });

  it("is one row when the refusals come all at once", async () => {
    await awayFromWindowEdge();
    await reachLimit("gus@example.com", "192.0.2.20");
    await Promise.all(Array.from({ length: 50 }, () => limitedSignIn("gus@example.com", "192.0.2.20")));
    const rows = await limitedRows("gus@example.com");
    expect(rows.map((r) => [r.address, r.details.count])).toEqual([["192.0.2.20", 50]]);
  });

  it("starts a new row in the next window, and a right password after the wait is noted as a sign-in", async () => {
    const hal = await newUser("hal@example.com");
    await awayFromWindowEdge();
    await reachLimit("hal@example.com", "192.0.2.30");
    for (let i = 0; i < 4; i++) await limitedSignIn("hal@example.com", "192.0.2.30", PASSWORD);
    expect(await auditRows("session.sign_in", "hal@example.com")).toEqual([]);
    // The limit's window passes: the refusals it counts and the rolled-up row age by one window.
    await store.query(
      `update sign_in_failures set at = at - interval '16 minutes' where email = 'hal@example.com';
       update audit_events set at = at - interval '16 minutes',
         rollup_key = regexp_replace(rollup_key, ' [0-9]+ ', ' ' || (split_part(rollup_key, ' ', 2)::bigint - 1) || ' ')
        where actor_label = 'hal@example.com' and rollup_key is not null;`,
      [],
      "retrace",
    );
    const signedIn = await nextAuthSignIn(ORIGIN, { email: "hal@example.com", password: PASSWORD }, "192.0.2.30");
    expect(sessionOf(signedIn.cookies)).toBeDefined();
    expect(await auditRows("session.sign_in", "hal@example.com")).toMatchObject([
      { actor_kind: "user", actor_id: hal.id, address: "192.0.2.30" },
    ]);
    // Limited again in this window: a new row; the last window's keeps its count.
    await reachLimit("hal@example.com", "192.0.2.30");
    await limitedSignIn("hal@example.com", "192.0.2.30");
    const rows = await limitedRows("hal@example.com");
    expect(rows.map((r) => r.details.count)).toEqual([4, 1]);
  });
});
