import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { nextAuth, nextAuthSignIn, type Cookie } from "./support/next-auth";
import { startWebStore } from "./support/postgres";

/**
 * The session cookie as next-auth's own sign-in sets it with Retrace's options (its core handler, as the
 * /api/auth routes run it): HttpOnly, SameSite=Lax, Secure when the app's public URL (NEXTAUTH_URL) is https, and
 * that cookie opens the API; sign-out clears it and the session it named is refused from then on.
 */

const SECRET = "cookies-secret-0123456789-abcdefghijklmnop";
const EMAIL = "cookie@example.com";
const PASSWORD = "correct horse battery";

let web: Awaited<ReturnType<typeof startWebStore>> | undefined;
let list: typeof import("@/app/api/databases/route");
const savedUrl = process.env.NEXTAUTH_URL;

async function signIn(origin: string): Promise<Cookie[]> {
  return (await nextAuthSignIn(origin, { email: EMAIL, password: PASSWORD })).cookies;
}

async function listStatus(cookies: Cookie[]): Promise<number> {
  const cookie = cookies.map((c) => `${c.name}=${c.value}`).join("; ");
  const response = await list.GET(new Request("http://localhost/api/databases", { headers: { cookie } }), {
    params: Promise.resolve({}),
  });
  return response.status;
}

beforeAll(async () => {
  web = await startWebStore(SECRET);
  const { getDb } = await import("@/lib/db");
  const { createUser } = await import("@/lib/auth/users");
  await createUser(getDb(), { email: EMAIL, password: PASSWORD, role: "viewer" });
  list = await import("@/app/api/databases/route");
});

afterEach(() => {
  if (savedUrl === undefined) delete process.env.NEXTAUTH_URL;
  else process.env.NEXTAUTH_URL = savedUrl;
});

afterAll(async () => {
  await web?.close();
});

describe("the session cookie", () => {
  it("is HttpOnly and SameSite=Lax, not Secure over plain http, and opens the API", async () => {
    process.env.NEXTAUTH_URL = "http://localhost:3000";
    const cookies = await signIn("http://localhost:3000");
    const session = cookies.find((c) => c.name === "next-auth.session-token");
    expect(session, JSON.stringify(cookies.map((c) => c.name))).toBeDefined();
    expect(session?.attributes, session?.header).toMatchObject({ httponly: true, samesite: "Lax", path: "/" });
    expect(session?.attributes.secure, session?.header).toBeUndefined();
    // The CSRF cookie too: no script on the page reads either.
    for (const cookie of cookies) expect(cookie.attributes.httponly, cookie.header).toBe(true);
    expect(await listStatus(cookies)).toBe(200);
  });

  it("is Secure (and __Secure- prefixed) when the app's URL is https, and opens the API there", async () => {
    process.env.NEXTAUTH_URL = "https://retrace.example.com";
    const cookies = await signIn("https://retrace.example.com");
    const session = cookies.find((c) => c.name === "__Secure-next-auth.session-token");
    expect(session, JSON.stringify(cookies.map((c) => c.name))).toBeDefined();
    expect(session?.attributes, session?.header).toMatchObject({ httponly: true, samesite: "Lax", secure: true });
    for (const cookie of cookies) expect(cookie.attributes.secure, cookie.header).toBe(true);
    expect(await listStatus(cookies)).toBe(200);
  });

  it("is cleared at sign-out, and the session it named is refused from then on", async () => {
    process.env.NEXTAUTH_URL = "http://localhost:3000";
    const cookies = await signIn("http://localhost:3000");
    expect(await listStatus(cookies)).toBe(200);
    const csrfToken = (await nextAuth("http://localhost:3000", "csrf", { cookies })).body?.csrfToken ?? "";
    const signedOut = await nextAuth("http://localhost:3000", "signout", {
      body: { csrfToken, json: "true" },
      cookies,
    });
    const cleared = signedOut.cookies.find((c) => c.name === "next-auth.session-token");
    expect(cleared?.value, cleared?.header).toBe("");
    expect(cleared?.attributes["max-age"], cleared?.header).toBe("0");
    // The old cookie, kept by whoever copied it, no longer opens anything.
    expect(await listStatus(cookies)).toBe(401);
  });
});
