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
