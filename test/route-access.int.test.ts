import path from "node:path";
import { NextRequest } from "next/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CALLERS, callerHeaders, type Caller } from "./support/principals";
import { startWebStore } from "./support/postgres";
import { APP, METHODS, sampleParams, sampleUrl, urlPattern, walk, type Handler } from "./support/routes";

/**
 * Every page and every /api route of the app's own route tree (app/ walked on disk), called as each caller in
 * CALLERS, against the statuses in one table. A route or method the table does not list fails the test, and so
 * does a row for a route that no longer exists: whoever adds a route says here who may call it.
 *
 * Admin calls send an empty JSON body and an id that does not exist, so they answer 400 or 404 past the access
 * check and change nothing; what matters is that they are neither 401 nor 403.
 */

const SECRET = "route-access-secret-0123456789-abcdefghij";

type Statuses = readonly [
  nobody: number,
  malformed: number,
  revoked: number,
  viewer: number,
  readOnly: number,
  admin: number,
  queryToken: number,
];

// queryToken: a live admin API token in the URL (?access_token=…) instead of the Authorization header: refused
// (400 naming the parameter) before anything else, since a URL ends up in logs, history and Referer headers.
//                                                      nobody malformed revoked viewer read-only admin query-token
const API: Record<string, Statuses | { skip: string }> = {
  "GET /api/auth/[...nextauth]": {
    skip: "next-auth's own sign-in endpoints (public by design; need a live request scope)",
  },
  "POST /api/auth/[...nextauth]": {
    skip: "next-auth's own sign-in endpoints (public by design; need a live request scope)",
  },
  "POST /api/setup": /*                                 */ [409, 409, 409, 409, 409, 409, 400],
  "GET /api/changes": /*                                */ [401, 401, 401, 200, 200, 200, 400],
  "GET /api/changes/[id]": /*                           */ [401, 401, 401, 404, 404, 404, 400],
  "GET /api/changes/[id]/transaction": /*               */ [401, 401, 401, 404, 404, 404, 400],
  "GET /api/changes/activity": /*                       */ [401, 401, 401, 200, 200, 200, 400],
  "GET /api/changes/export": /*                         */ [401, 401, 401, 200, 200, 200, 400],
  "GET /api/changes/live": /*                           */ [401, 401, 401, 400, 400, 400, 400],
  "GET /api/records/history": /*                        */ [401, 401, 401, 400, 400, 400, 400],
  "GET /api/trail/tables": /*                           */ [401, 401, 401, 200, 200, 200, 400],
  "GET /api/environments": /*                           */ [401, 401, 401, 200, 200, 200, 400],
  "GET /api/databases": /*                              */ [401, 401, 401, 200, 200, 200, 400],
  "POST /api/databases": /*                             */ [401, 401, 401, 403, 403, 400, 400],
  "POST /api/databases/check": /*                       */ [401, 401, 401, 403, 403, 400, 400],
  "GET /api/databases/role-sql": /*                     */ [401, 401, 401, 403, 403, 200, 400],
  "GET /api/databases/[id]": /*                         */ [401, 401, 401, 404, 404, 404, 400],
  "PATCH /api/databases/[id]": /*                       */ [401, 401, 401, 403, 403, 400, 400],
  "DELETE /api/databases/[id]": /*                      */ [401, 401, 401, 403, 403, 404, 400],
  "GET /api/databases/[id]/tables": /*                  */ [401, 401, 401, 404, 404, 404, 400],
  "PUT /api/databases/[id]/tables": /*                  */ [401, 401, 401, 403, 403, 400, 400],
  "POST /api/databases/[id]/tables/identity": /*        */ [401, 401, 401, 403, 403, 400, 400],
  "GET /api/databases/[id]/columns": /*                 */ [401, 401, 401, 404, 404, 404, 400],
  "PUT /api/databases/[id]/columns": /*                 */ [401, 401, 401, 403, 403, 400, 400],
  "GET /api/databases/[id]/baselines": /*              */ [401, 401, 401, 404, 404, 404, 400],
  "POST /api/databases/[id]/baselines": /*             */ [401, 401, 401, 403, 403, 400, 400],
  "GET /api/records/as-of": /*                          */ [401, 401, 401, 400, 400, 400, 400],
  "GET /api/tables/as-of": /*                           */ [401, 401, 401, 400, 400, 400, 400],
  "GET /api/users": /*                                  */ [401, 401, 401, 403, 403, 200, 400],
  "POST /api/users": /*                                 */ [401, 401, 401, 403, 403, 400, 400],
  "PATCH /api/users/[id]": /*                           */ [401, 401, 401, 403, 403, 400, 400],
  "GET /api/tokens": /*                                 */ [401, 401, 401, 403, 403, 200, 400],
  "POST /api/tokens": /*                                */ [401, 401, 401, 403, 403, 400, 400],
  "DELETE /api/tokens/[id]": /*                         */ [401, 401, 401, 403, 403, 404, 400],
  "GET /api/audit": /*                                  */ [401, 401, 401, 403, 403, 200, 400],
  // Verifying the seals only reads the trail: viewers and read-only tokens may.
  "POST /api/databases/[id]/verify": /*                 */ [401, 401, 401, 404, 404, 404, 400],
  // Planning a revert only reads (its SQL and conflicts): viewers may; executing it is checked below.
  "POST /api/reverts": /*                               */ [401, 401, 401, 400, 400, 400, 400],
  "GET /api/retention": /*                              */ [401, 401, 401, 200, 200, 200, 400],
  "PUT /api/retention": /*                              */ [401, 401, 401, 403, 403, 400, 400],
  // Previewing rules only reads (what they would free): viewers and read-only tokens may.
  "POST /api/retention/preview": /*                     */ [401, 401, 401, 400, 400, 400, 400],
  "GET /api/storage": /*                                */ [401, 401, 401, 200, 200, 200, 400],
  "GET /api/holds": /*                                  */ [401, 401, 401, 200, 200, 200, 400],
  "POST /api/holds": /*                                 */ [401, 401, 401, 403, 403, 400, 400],
  "DELETE /api/holds/[id]": /*                          */ [401, 401, 401, 403, 403, 404, 400],
};

/** Writes by method that only read for viewers; what they refuse a viewer is tested on its own below. */
const READS_FOR_VIEWERS = new Set([
  "POST /api/reverts",
  "POST /api/databases/[id]/verify",
  "POST /api/retention/preview",
]);

/** What the proxy does with a page request: let it render, send to sign-in, send to /forbidden; or not run. */
type PageOutcome = "page" | "login" | "forbidden" | "public";
type PageRow = readonly [PageOutcome, PageOutcome, PageOutcome, PageOutcome, PageOutcome, PageOutcome];
const SIGNED_IN: PageRow = ["login", "login", "login", "page", "login", "page"];
const ADMIN_ONLY: PageRow = ["login", "login", "login", "forbidden", "login", "page"];
// Public pages go through the proxy too (for their Content-Security-Policy), which lets everyone in.
const PUBLIC: PageRow = ["page", "page", "page", "page", "page", "page"];

const PAGES: Record<string, PageRow> = {
  "/": SIGNED_IN,
  "/login": PUBLIC,
  "/setup": PUBLIC,
  "/forbidden": SIGNED_IN,
  "/changes": SIGNED_IN,
  "/changes/[id]": SIGNED_IN,
  "/records": SIGNED_IN,
  "/tables": SIGNED_IN,
  "/reverts": SIGNED_IN,
  "/databases": SIGNED_IN,
  "/databases/[id]": SIGNED_IN,
  "/databases/[id]/tables": SIGNED_IN,
  "/databases/new": ADMIN_ONLY,
  "/settings/users": ADMIN_ONLY,
  "/settings/tokens": ADMIN_ONLY,
  "/activity": ADMIN_ONLY,
  "/storage": SIGNED_IN,
  // Viewers read the retention rules; only admins may change them (PUT /api/retention).
  "/settings/retention": SIGNED_IN,
};

const WALKED = [...CALLERS, "queryToken"] as const;

let web: Awaited<ReturnType<typeof startWebStore>> | undefined;
let headers: Record<Caller, Record<string, string>>;
/** A live admin API token, for the calls that carry one in the URL. */
let adminToken: string;
const routeFiles = walk(path.join(APP, "api"), "route.ts");
const pageFiles = walk(APP, "page.tsx");

beforeAll(async () => {
  web = await startWebStore(SECRET);
  headers = await callerHeaders(SECRET);
  const { getDb } = await import("@/lib/db");
  const { createApiToken } = await import("@/lib/auth/tokens");
  adminToken = (await createApiToken(getDb(), `in the URL ${crypto.randomUUID().slice(0, 8)}`, { role: "admin" }))
    .token;
});

afterAll(async () => {
  await web?.close();
});

describe("the access table", () => {
  it("lists every /api route and method of the app, and nothing else", async () => {
    const found: string[] = [];
    for (const file of routeFiles) {
      const exported = (await import(file)) as Record<string, unknown>;
      for (const method of METHODS)
        if (typeof exported[method] === "function") found.push(`${method} ${urlPattern(file)}`);
    }
    expect(found.sort()).toEqual(Object.keys(API).sort());
  });

  it("lists every page of the app, and nothing else", () => {
    expect(pageFiles.map(urlPattern).sort()).toEqual(Object.keys(PAGES).sort());
  });

  it("lets no viewer or read-only token change anything", () => {
    for (const [route, row] of Object.entries(API)) {
      if ("skip" in row || route.startsWith("GET ") || route === "POST /api/setup" || READS_FOR_VIEWERS.has(route))
        continue;
      expect([row[3], row[4]], route).toEqual([403, 403]);
    }
  });
});

describe("every /api route", () => {
  for (const file of routeFiles) {
    const pattern = urlPattern(file);
    it(`${pattern} answers each caller as the table says`, async () => {
      const exported = (await import(file)) as Record<string, Handler | undefined>;
      for (const method of METHODS) {
        const handler = exported[method];
        const row = API[`${method} ${pattern}`];
        if (!handler || !row || "skip" in row) continue;
        const statuses: number[] = [];
        for (const caller of WALKED) {
          const body = method === "GET" || method === "DELETE" ? undefined : "{}";
          const url = new URL(sampleUrl(pattern));
          if (caller === "queryToken") url.searchParams.set("access_token", adminToken);
          const request = new Request(url, {
            method,
            headers: {
              ...(caller === "queryToken" ? {} : headers[caller]),
              ...(body ? { "content-type": "application/json" } : {}),
            },
            body,
          });
          const response = await handler(request, { params: Promise.resolve(sampleParams(pattern)) });
          await response.body?.cancel();
          statuses.push(response.status);
        }
        expect(statuses, `${method} ${pattern} as ${WALKED.join(", ")}`).toEqual([...row]);
      }
    });
  }
});

/** Calls `method pattern` as the admin's cookie (or `authorization`), with extra headers; answers the status. */
async function callAs(method: string, pattern: string, extra: Record<string, string>, auth = headers.admin) {
  const file = routeFiles.find((f) => urlPattern(f) === pattern);
  const handler = file ? ((await import(file)) as Record<string, Handler | undefined>)[method] : undefined;
  if (!handler) throw new Error(`no ${method} ${pattern}`);
  const request = new Request(sampleUrl(pattern), {
    method,
    headers: { ...auth, "content-type": "text/plain", host: "localhost", ...extra },
    body: "{}",
  });
  const response = await handler(request, { params: Promise.resolve(sampleParams(pattern)) });
  await response.body?.cancel();
  return response.status;
}

describe("cross-site writes", () => {
  const writes = Object.entries(API).flatMap(([route, row]) =>
    "skip" in row || route.startsWith("GET ") ? [] : [{ route, admin: row[5] }],
  );

  it("are refused with the admin's cookie from another origin, even on the same host; nothing is reached", async () => {
    for (const { route } of writes) {
      const [method = "", pattern = ""] = route.split(" ");
      // A no-cors text/plain POST from a page on 127.0.0.1:8123 against the app on localhost.
      expect(await callAs(method, pattern, { origin: "http://127.0.0.1:8123" }), route).toBe(403);
      expect(await callAs(method, pattern, { origin: "null" }), route).toBe(403);
      expect(await callAs(method, pattern, { "sec-fetch-site": "same-site" }), route).toBe(403);
    }
  });

  it("are let through from the app's own pages, and for API tokens whatever the origin", async () => {
    const { getDb } = await import("@/lib/db");
    const { createApiToken } = await import("@/lib/auth/tokens");
    const token = await createApiToken(getDb(), `cross-site ${crypto.randomUUID().slice(0, 8)}`, { role: "admin" });
    const bearer = { authorization: `Bearer ${token.token}` };
    for (const { route, admin } of writes) {
      const [method = "", pattern = ""] = route.split(" ");
      const own = { origin: "http://localhost", "sec-fetch-site": "same-origin" };
      expect(await callAs(method, pattern, own), route).toBe(admin);
      // /api/setup takes no token (nobody can hold one before the first admin exists).
      if (route === "POST /api/setup") continue;
      expect(await callAs(method, pattern, { origin: "http://127.0.0.1:8123" }, bearer), route).toBe(admin);
    }
  });
});

describe("a revert", () => {
  it("is executed by admins only: a viewer and a read-only token get 403, an admin reaches the lookup", async () => {
    const { POST } = (await import("@/app/api/reverts/route")) as unknown as { POST: Handler };
    const statuses: number[] = [];
    for (const caller of CALLERS) {
      const request = new Request("http://localhost/api/reverts", {
        method: "POST",
        headers: { ...headers[caller], "content-type": "application/json" },
        body: JSON.stringify({ changeId: "1", execute: true }),
      });
      const response = await POST(request, { params: Promise.resolve({}) });
      await response.body?.cancel();
      statuses.push(response.status);
    }
    expect(statuses).toEqual([401, 401, 401, 403, 403, 404]);
  });
});

describe("every page", () => {
  it("is let through, sent to sign-in or to /forbidden as the table says", async () => {
    const { proxy, config } = await import("@/proxy");
    const matchers = config.matcher.map((m) => new RegExp(`^${m}$`));
    for (const pattern of pageFiles.map(urlPattern)) {
      const outcomes: PageOutcome[] = [];
      for (const caller of CALLERS) {
        const url = sampleUrl(pattern);
        if (!matchers.some((m) => m.test(new URL(url).pathname))) {
          outcomes.push("public");
          continue;
        }
        const response = await proxy(new NextRequest(url, { headers: headers[caller] }));
        const location = response.headers.get("location");
        if (response.headers.get("x-middleware-next") === "1") {
          outcomes.push("page");
          // Each page answer has its own script nonce, on the response and on the request Next.js renders.
          const policy = response.headers.get("content-security-policy") ?? "";
          expect(policy, pattern).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/]{22}==' 'strict-dynamic'(;|$)/);
          expect(response.headers.get("x-middleware-request-content-security-policy"), pattern).toBe(policy);
        } else if (location && new URL(location).pathname === "/login") outcomes.push("login");
        else if (location && new URL(location).pathname === "/forbidden") outcomes.push("forbidden");
        else throw new Error(`${pattern} as ${caller}: unexpected ${response.status} ${location ?? ""}`);
      }
      expect(outcomes, `${pattern} as ${CALLERS.join(", ")}`).toEqual([...(PAGES[pattern] ?? [])]);
    }
  });
});
