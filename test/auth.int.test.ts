import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { safeCallbackUrl } from "@/components/auth/callback-url";
import { setupCode } from "@/lib/auth/setup-code";
import { countUsers, verifyCredentials } from "@/lib/auth/users";
import { connectStore, type Store } from "@/lib/db/client";
import { startWebStore, type TestServer } from "./support/postgres";

let web: Awaited<ReturnType<typeof startWebStore>> | undefined;
let server: TestServer;
let store: Store;
let setup: (request: Request) => Promise<Response>;

const password = "correct horse battery";
const SECRET = "auth-integration-secret-0123456789-abcdef";

/** POST /api/setup with the instance's setup code (what `retrace start` prints) unless the body has its own. */
function postSetup(body: unknown): Promise<Response> {
  const withCode = typeof body === "object" ? { setupCode: setupCode(SECRET), ...body } : body;
  return setup(
    new Request("http://localhost/api/setup", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: typeof withCode === "string" ? withCode : JSON.stringify(withCode),
    }),
  );
}

async function errorOf(response: Response) {
  return ((await response.json()) as { error: { code: string; message: string } }).error;
}

beforeAll(async () => {
  web = await startWebStore(SECRET);
  server = web.server;
  store = connectStore(web.url, { max: 2 });
  setup = (await import("@/app/api/setup/route")).POST;
});

afterAll(async () => {
  await store?.pool.end();
  await web?.close();
});

describe("POST /api/setup", () => {
  it("rejects bad input with 400 and a clear message, creating nobody", async () => {
    const cases: [unknown, string][] = [
      [{ email: "not-an-email", password }, "Enter a valid email address"],
      [{ email: "ann@example.com", password: "short" }, "Password must be at least 8 characters"],
      [{ email: "ann@example.com", password, confirmPassword: "something else" }, "Passwords do not match"],
      [{ password }, "Email is required"],
      ["{not json", "Send a JSON body"],
      [{ email: "ann@example.com", password, role: "viewer" }, "role"],
      ['{"email":"ann@example.com","password":"pass\\u0000word"}', "password: must not contain a NUL"],
      [{ email: ["ann@example.com"], password }, "email"],
    ];
    for (const [body, message] of cases) {
      const response = await postSetup(body);
      expect(response.status, message).toBe(400);
      const error = await errorOf(response);
      expect(error.code).toBe("invalid");
      expect(error.message).toContain(message);
    }
    expect(await countUsers(store.db)).toBe(0);
  });

  it("refuses a multi-megabyte body with 413 after reading at most 16 KiB of it, creating nobody", async () => {
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 8 * 1024 * 1024) return controller.close();
        sent += 4096;
        controller.enqueue(new Uint8Array(4096).fill(0x20));
      },
    });
    const init: RequestInit & { duplex: "half" } = {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      duplex: "half",
    };
    const response = await setup(new Request("http://localhost/api/setup", init));
    expect(response.status).toBe(413);
    expect((await errorOf(response)).code).toBe("too_large");
    expect(sent).toBeLessThanOrEqual(32 * 1024);
    expect(await countUsers(store.db)).toBe(0);
  });

  it("refuses a request without the instance's setup code with 403, creating nobody", async () => {
    for (const code of [undefined, "", "AAAA-BBBB-CCCC", setupCode("another instance's secret, 32+ chars")]) {
      const response = await postSetup({ email: "mallory@example.com", password, setupCode: code });
      expect(response.status, String(code)).toBe(403);
      const error = await errorOf(response);
      expect(error.code).toBe("forbidden");
      expect(error.message).toMatch(/setup code/);
      expect(error.message).toContain("npx retrace setup-code");
    }
    expect(await countUsers(store.db)).toBe(0);
  });

  it("creates the first admin, then answers 409", async () => {
    const response = await postSetup({ email: " Ann@Example.com ", password, confirmPassword: password });
    expect(response.status).toBe(201);
    const body = (await response.json()) as { user: { id: string; email: string; role: string } };
    expect(body.user).toMatchObject({ email: "ann@example.com", role: "admin" });
    expect(body.user).not.toHaveProperty("passwordHash");

    const again = await postSetup({ email: "eve@example.com", password });
    expect(again.status).toBe(409);
    expect((await errorOf(again)).message).toBe("Setup is already complete.");
    // Even nonsense gets 409 once setup is done: nothing about the input matters any more.
    expect((await postSetup("{")).status).toBe(409);
    expect(await countUsers(store.db)).toBe(1);
  });

  it("stores the password hashed, never in clear text", async () => {
    const result = await server.query<{ password_hash: string }>("select password_hash from users", [], "retrace");
    const hash = result.rows[0]?.password_hash ?? "";
    expect(hash).toMatch(/^scrypt\$/);
    expect(hash).not.toContain(password);
  });

  it("verifies credentials: right password, wrong password, unknown user", async () => {
    expect(await verifyCredentials(store.db, "ann@example.com", password)).toMatchObject({
      email: "ann@example.com",
      role: "admin",
    });
    expect(await verifyCredentials(store.db, "  ANN@example.com", password)).not.toBeNull();
    expect(await verifyCredentials(store.db, "ann@example.com", `${password}!`)).toBeNull();
    expect(await verifyCredentials(store.db, "ann@example.com", "")).toBeNull();
    expect(await verifyCredentials(store.db, "bob@example.com", password)).toBeNull();
  });
});

describe("concurrent setup", () => {
  it("creates exactly one admin when several setups race", async () => {
    await server.query("truncate users cascade", [], "retrace");
    const responses = await Promise.all(
      Array.from({ length: 5 }, (_, i) => postSetup({ email: `admin${i}@example.com`, password })),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 409, 409, 409, 409]);
    expect(await countUsers(store.db)).toBe(1);
  });
});

describe("the sign-in callback URL", () => {
  const origin = "https://retrace.example.com";
  it("keeps paths on this site", () => {
    expect(safeCallbackUrl("/changes?operation=UPDATE#x", origin)).toBe("/changes?operation=UPDATE#x");
    expect(safeCallbackUrl("https://retrace.example.com/databases/new", origin)).toBe("/databases/new");
  });
  it("refuses anything that leaves the site or loops back to sign-in", () => {
    for (const raw of [
      undefined,
      "",
      "https://evil.example/changes",
      "//evil.example/changes",
      "/\\evil.example",
      "javascript:alert(1)",
      " /changes",
      "/login?callbackUrl=/changes",
      "/setup",
    ]) {
      expect(safeCallbackUrl(raw, origin), String(raw)).toBe("/changes");
    }
  });
});
