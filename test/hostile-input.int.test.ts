/**
 * Hostile input against every /api route of the app's own route tree (test/support/routes.ts), on changes the real
 * worker captured from four databases of one environment: credentials in the URL, hostile query parameters and
 * path ids (SQL metacharacters, NUL bytes, huge and repeated values, forged cursors), hostile bodies (multi-megabyte,
 * malformed, wrong types, unknown fields, NUL bytes), `Cache-Control: no-store` on every answer, and paging through
 * four sources to the end with a cursor that stays short.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CALLERS, callerHeaders, type Caller } from "./support/principals";
import { connectThroughRetrace, SECRET, startServers, type Servers } from "./support/servers";
import { apiRoutes, sampleParams, sampleUrl, type ApiRoute } from "./support/routes";
import { waitFor } from "./support/wait";
import { startTestWorker } from "./support/worker";
import type { Worker } from "../worker/worker";

type ErrorBody = { error?: { code?: string; message?: string; details?: unknown } };

const DATABASES = ["app", "app2", "app3", "app4"];
const ROWS = 6;
const XSS = `<img src=x onerror=alert(1)>"><script>alert(2)</script>`;

let servers: Servers;
let worker: Worker | undefined;
let routes: ApiRoute[];
let headers: Record<Caller, Record<string, string>>;
let adminToken: string;
let liveToken: string;
const pools: pg.Pool[] = [];

function route(method: string, pattern: string): ApiRoute {
  const found = routes.find((r) => r.method === method && r.pattern === pattern);
  if (!found) throw new Error(`no ${method} ${pattern}`);
  return found;
}

/** Calls a route as `caller` with a query string (or a full path for dynamic segments) and an optional body. */
async function call(
  target: ApiRoute,
  options: { query?: string; path?: Record<string, string>; body?: BodyInit; extra?: Record<string, string> } = {},
  caller: Caller = "admin",
): Promise<{ status: number; text: string; response: Response }> {
  const url = new URL(sampleUrl(target.pattern));
  const params = { ...sampleParams(target.pattern), ...options.path };
  if (options.path) {
    url.pathname = target.pattern.replace(/\[([^\]]+)\]/g, (_m, name: string) =>
      encodeURIComponent(params[name] ?? ""),
    );
  }
  if (options.query !== undefined) url.search = options.query;
  const init: RequestInit & { duplex?: "half" } = {
    method: target.method,
    headers: { ...headers[caller], ...options.extra },
    body: options.body,
  };
  if (options.body instanceof ReadableStream) init.duplex = "half";
  const response = await target.handler(new Request(url, init), { params: Promise.resolve(params) });
  // The whole answer is read: an export that fails half-way must fail here too.
  const text = await response.text();
  return { status: response.status, text, response };
}

function errorOf(text: string): { code: string; message: string; paths: string[] } {
  const body = JSON.parse(text) as ErrorBody;
  const details = Array.isArray(body.error?.details) ? (body.error.details as { path?: string }[]) : [];
  return {
    code: body.error?.code ?? "",
    message: body.error?.message ?? "",
    paths: details.map((d) => d.path ?? ""),
  };
}

/** Asserts a 400 whose message or details name `name`. */
function expectNamed(answer: { status: number; text: string }, name: string, what: string) {
  expect(answer.status, `${what}: ${answer.text.slice(0, 300)}`).toBe(400);
  const error = errorOf(answer.text);
  expect(error.code, what).toBe("invalid");
  const shown = name.replace(/\u0000/g, "\\u0000");
  expect(error.message.includes(shown) || error.paths.includes(shown), `${what} names ${shown}: ${answer.text}`).toBe(
    true,
  );
}

async function rowCounts(): Promise<Record<string, number>> {
  const [row] = await servers.storeQuery<Record<string, number>>(`
    select (select count(*)::int from users) as users, (select count(*)::int from api_tokens) as tokens,
           (select count(*)::int from sources) as sources, (select count(*)::int from audit_events) as audit,
           (select count(*)::int from tracked_tables) as tracked, (select count(*)::int from baselines) as baselines,
           (select count(*)::int from changes) as changes`);
  return row ?? {};
}

beforeAll(async () => {
  servers = await startServers();
  for (const database of DATABASES) {
    if (database !== "app") await servers.source.createDatabase(database);
    const pool = new pg.Pool({ connectionString: servers.source.url(database), max: 1 });
    pool.on("error", () => undefined);
    pools.push(pool);
    await pool.query(`create table items (id int primary key, name text, "${XSS.replace(/"/g, '""')}" text)`);
  }
  for (const database of DATABASES) {
    await connectThroughRetrace(servers, { database, environment: "production", tables: ["public.items"] });
  }
  process.env.DATABASE_URL = servers.storeUrl;
  process.env.RETRACE_SECRET = SECRET;
  headers = await callerHeaders(SECRET);
  const { getDb } = await import("@/lib/db");
  const { createApiToken } = await import("@/lib/auth/tokens");
  adminToken = (await createApiToken(getDb(), "in the URL", { role: "admin" })).token;
  routes = await apiRoutes();
  worker = startTestWorker(servers);
  // Interleaved across the four databases, so every page of a small limit mixes sources.
  for (let id = 1; id <= ROWS; id++) {
    for (const pool of pools) {
      await pool.query(`insert into items values ($1, $2, $3)`, [id, `' OR '1'='1 ${XSS}`, XSS]);
    }
  }
  await waitFor(`${ROWS * DATABASES.length} changes stored`, async () => {
    const [row] = await servers.storeQuery<{ n: number }>("select count(*)::int as n from changes");
    return row?.n === ROWS * DATABASES.length;
  });
  const list = JSON.parse((await call(route("GET", "/api/changes"), { query: "limit=1" })).text) as {
    liveToken: string;
  };
  liveToken = list.liveToken;
}, 180_000);

afterAll(async () => {
  await worker?.stop();
  await Promise.allSettled(pools.map((pool) => pool.end()));
  if (process.env.DATABASE_URL) {
    const { getStore } = await import("@/lib/db");
    await getStore()
      .pool.end()
      .catch(() => undefined);
  }
  await servers?.stop();
});

describe("every /api answer", () => {
  it("is Cache-Control: no-store, for every caller, errors included", async () => {
    for (const target of routes) {
      if (target.pattern.startsWith("/api/auth/")) continue; // next-auth needs a live request scope: see below
      for (const caller of CALLERS) {
        const body = target.method === "GET" || target.method === "DELETE" ? undefined : "{}";
        const { response, status } = await call(target, { body }, caller);
        expect(
          response.headers.get("cache-control"),
          `${target.method} ${target.pattern} as ${caller}: ${status}`,
        ).toBe("no-store");
      }
    }
  });
});

describe("a credential in the URL", () => {
  it("is refused on every route with a 400 naming the parameter, even with a valid session or token", async () => {
    const forms = (token: string): [string, string][] => [
      ["access_token", token],
      ["token", token],
      ["api_token", token],
      ["apiKey", "anything"],
      ["Authorization", `Bearer ${token}`],
      ["q", `Bearer ${token}`],
    ];
    for (const target of routes) {
      for (const [name, value] of forms(adminToken)) {
        const query = new URLSearchParams([[name, value]]).toString();
        for (const caller of ["nobody", "admin", "readOnlyToken"] as const) {
          const body = target.method === "GET" || target.method === "DELETE" ? undefined : "{}";
          expectNamed(await call(target, { query, body }, caller), name, `${target.method} ${target.pattern}?${name}`);
        }
      }
    }
  });

  it("leaves the live tail's own token (a position, not a credential) working", async () => {
    const answer = await call(route("GET", "/api/changes/live"), { query: `token=${liveToken}` }, "viewer");
    expect(answer.status, answer.text).toBe(200);
  });
});

/** The query parameters each GET route reads; a GET route of the tree missing here fails the first test. */
const FILTERS = ["operation", "table", "primaryKey", "environment", "database", "sourceId", "from", "to", "context"];
const GET_PARAMS: Record<string, { params: string[]; base?: () => Record<string, string> }> = {
  "/api/audit": { params: ["action", "actor", "cursor", "limit"] },
  "/api/changes": { params: [...FILTERS, "field", "cursor", "limit"] },
  "/api/changes/[id]": { params: [] },
  "/api/changes/[id]/transaction": { params: ["cursor", "limit"] },
  "/api/changes/activity": { params: [...FILTERS, "field", "buckets"] },
  "/api/changes/export": { params: [...FILTERS, "field", "format"] },
  "/api/changes/live": { params: [...FILTERS, "field", "token", "limit"], base: () => ({ token: liveToken }) },
  "/api/databases": { params: [] },
  "/api/databases/[id]": { params: [] },
  "/api/databases/[id]/baselines": { params: [] },
  "/api/databases/[id]/tables": { params: [] },
  "/api/databases/[id]/columns": { params: [] },
  "/api/databases/role-sql": { params: ["database", "hostKind", "tables"] },
  "/api/environments": { params: [] },
  "/api/holds": { params: ["released"] },
  "/api/retention": { params: [] },
  "/api/storage": { params: [] },
  "/api/records/as-of": {
    params: ["table", "primaryKey", "database", "sourceId", "at"],
    base: () => ({ table: "public.items", primaryKey: "1", at: new Date().toISOString() }),
  },
  "/api/records/history": {
    params: ["table", "primaryKey", "database", "sourceId", "cursor", "limit"],
    base: () => ({ table: "public.items", primaryKey: "1" }),
  },
  "/api/tables/as-of": {
    params: ["table", "database", "sourceId", "at", "cursor", "limit"],
    base: () => ({ table: "public.items", at: new Date().toISOString() }),
  },
  "/api/tokens": { params: [] },
  "/api/trail/tables": { params: ["q", "environment"] },
  "/api/users": { params: [] },
};

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64url");
const HOSTILE_VALUES = [
  "' OR '1'='1",
  "'; drop table changes; --",
  '"; select pg_sleep(10); --',
  "\u0000",
  "public.items\u0000",
  "%00",
  "\\",
  "x".repeat(100_000),
  "-1",
  "0",
  "1e309",
  "99999999999999999999999999",
  "NaN",
  "[]",
  '{"a":',
  '{"$where":"1"}',
  "../../../../etc/passwd",
  "\ud83d\ude00 ünïcødé",
  " ",
  XSS,
  b64("c:9223372036854775808"),
  b64("c:1,ffffffff-ffff-ffff-ffff-ffffffffffff@0/0#1"),
  b64(`c:1${",00000000-0000-4000-8000-000000000000@0/0#1".repeat(50)}`),
  b64("l:zzzzzzzzzzzz0/0"),
  b64("l:aaaaaaaaaaaaFFFFFFFF/FFFFFFFF"),
  b64("k:\u0000"),
  b64("t:-1"),
  "bm90IGEgY3Vyc29y",
  "===",
];

describe("hostile query parameters", () => {
  it("are listed for every GET route of the tree", () => {
    const gets = routes.filter((r) => r.method === "GET" && !r.pattern.startsWith("/api/auth/")).map((r) => r.pattern);
    expect(gets.sort()).toEqual(Object.keys(GET_PARAMS).sort());
  });

  it("never answer 500: a 400 names the parameter; NUL bytes and repeats are always a 400 naming it", async () => {
    const before = await rowCounts();
    for (const [pattern, { params, base }] of Object.entries(GET_PARAMS)) {
      const target = route("GET", pattern);
      for (const name of params) {
        for (const value of HOSTILE_VALUES) {
          const query = new URLSearchParams({ ...base?.(), [name]: value }).toString();
          const what = `GET ${pattern}?${name}=${JSON.stringify(value.slice(0, 40))}`;
          const answer = await call(target, { query }, "admin");
          expect([200, 400, 404], `${what}: ${answer.text.slice(0, 300)}`).toContain(answer.status);
          if (answer.status === 400) {
            const error = errorOf(answer.text);
            const named = [name, ...Object.keys(base?.() ?? {})].some(
              (n) => error.message.includes(n) || error.paths.includes(n),
            );
            expect(named, `${what} names a parameter: ${answer.text.slice(0, 300)}`).toBe(true);
          }
          if (value.includes("\u0000")) expectNamed(answer, name, what);
        }
        const twice = new URLSearchParams({ ...base?.() });
        twice.append(name, "1");
        twice.append(name, "2");
        if (base?.()[name] === undefined)
          expectNamed(await call(target, { query: twice.toString() }), name, `${pattern} ${name}×2`);
      }
    }
    expect(await rowCounts()).toEqual(before);
  }, 300_000);

  it("match nothing when they are SQL: a filter is a value, never SQL", async () => {
    for (const name of ["table", "environment", "database", "primaryKey", "field"]) {
      const query = new URLSearchParams({ [name]: "' OR '1'='1" }).toString();
      const answer = await call(route("GET", "/api/changes"), { query });
      expect(answer.status, answer.text).toBe(200);
      expect((JSON.parse(answer.text) as { changes: unknown[] }).changes, name).toEqual([]);
    }
  });

  it("in path ids answer 404, never 500", async () => {
    const ids = ["1' or '1'='1", "\u0000", "1\u0000", "9".repeat(40), "-1", "1e3", "../changes", XSS];
    for (const target of routes.filter((r) => r.method === "GET" && r.pattern.includes("[id]"))) {
      for (const id of ids) {
        const answer = await call(target, { path: { id } });
        expect(answer.status, `${target.pattern} ${JSON.stringify(id)}: ${answer.text}`).toBe(404);
      }
    }
  });
});

/** A body of `bytes` bytes that counts how much of it was read. */
function countingBody(bytes: number): { body: ReadableStream<Uint8Array>; pulled: () => number } {
  let sent = 0;
  const chunk = new Uint8Array(64 * 1024).fill(0x20);
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= bytes) return controller.close();
      sent += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  return { body, pulled: () => sent };
}

describe("hostile bodies", () => {
  const writes = () => routes.filter((r) => r.method === "POST" || r.method === "PUT" || r.method === "PATCH");

  it("of several megabytes get 413 on every route that reads a body, sign-in included, unread past 1 MiB", async () => {
    const before = await rowCounts();
    for (const target of writes()) {
      // /api/setup answers 409 without reading anything once a user exists (auth.int.test.ts: 413 before).
      const expected = target.pattern === "/api/setup" ? 409 : 413;
      const streamed = countingBody(8 * 1024 * 1024);
      const answer = await call(target, {
        body: streamed.body,
        extra: { "content-type": "application/x-www-form-urlencoded" },
      });
      expect(answer.status, `${target.method} ${target.pattern}: ${answer.text.slice(0, 200)}`).toBe(expected);
      expect(streamed.pulled(), `${target.pattern} read at most ~1 MiB`).toBeLessThan(1.5 * 1024 * 1024);
      if (expected === 413) expect(errorOf(answer.text).code).toBe("too_large");
      const declared = await call(target, {
        body: "x".repeat(3 * 1024 * 1024),
        extra: { "content-type": "application/json", "content-length": String(3 * 1024 * 1024) },
      });
      expect(declared.status, `${target.method} ${target.pattern} with Content-Length`).toBe(expected);
    }
    expect(await rowCounts()).toEqual(before);
  });

  it("malformed, mistyped, with unknown fields or NUL bytes: a 400 naming the problem, nothing changed", async () => {
    const before = await rowCounts();
    for (const target of writes()) {
      if (target.pattern.startsWith("/api/auth/")) continue; // next-auth parses its own form (needs a request scope)
      const what = `${target.method} ${target.pattern}`;
      const send = (body: string) => call(target, { body, extra: { "content-type": "application/json" } });
      if (target.pattern === "/api/setup") {
        for (const body of ['{"email":', "[]", '{"unexpected":1}']) expect((await send(body)).status, what).toBe(409);
        continue;
      }
      const malformed = await send('{"tables": [');
      expect(malformed.status, `${what}: ${malformed.text}`).toBe(400);
      expect(errorOf(malformed.text).message, what).toContain("JSON");
      for (const body of ["[]", "42", '"text"', "null", "true", '[{"enabled":true}]']) {
        const answer = await send(body);
        expect(answer.status, `${what} ${body}: ${answer.text}`).toBe(400);
        expect(errorOf(answer.text).message.length, `${what} ${body}`).toBeGreaterThan(0);
      }
      expectNamed(await send('{"unexpectedField":1}'), "unexpectedField", `${what} unknown field`);
      expectNamed(await send('{"name":"a\\u0000b"}'), "name", `${what} NUL in a value`);
      expectNamed(await send('{"a\\u0000":1}'), "a\\u0000", `${what} NUL in a key`);
    }
    expect(await rowCounts()).toEqual(before);
  });

  it("with wrong types name the field", async () => {
    const cases: [string, string, string, string][] = [
      ["POST", "/api/users", '{"email":"a@example.com","password":12345678,"role":"viewer"}', "password"],
      ["POST", "/api/users", '{"email":"a@example.com","password":"12345678","role":"root"}', "role"],
      ["POST", "/api/tokens", '{"name":["x"]}', "name"],
      ["PATCH", "/api/databases/[id]", '{"enabled":"yes"}', "enabled"],
      ["PUT", "/api/databases/[id]/tables", '{"tables":"public.items"}', "tables"],
      [
        "POST",
        "/api/databases/check",
        '{"host":"h","port":"not a port","database":"d","username":"u","password":""}',
        "port",
      ],
      ["POST", "/api/reverts", '{"changeId":"1","execute":"yes"}', "execute"],
      ["POST", "/api/holds", '{"database":"app","from":"yesterday","to":"2026-01-02T00:00:00Z","reason":"x"}', "from"],
      ["PUT", "/api/retention", '{"rules":[{"environment":"test","table":null,"days":"7"}]}', "rules.0.days"],
      [
        "POST",
        "/api/retention/preview",
        '{"rules":[{"environment":"test","table":"orders","days":7}]}',
        "rules.0.table",
      ],
    ];
    for (const [method, pattern, body, field] of cases) {
      const answer = await call(route(method, pattern), { body, extra: { "content-type": "application/json" } });
      expectNamed(answer, field, `${method} ${pattern} ${body}`);
    }
  });
});

describe("paging four sources of one environment", () => {
  it("reaches the end one change at a time, each change once, with a cursor that stays short", async () => {
    for (const filter of ["", "environment=production", "table=public.items"]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let page = 0; page <= ROWS * DATABASES.length; page++) {
        const query = `${filter}&limit=1${cursor ? `&cursor=${cursor}` : ""}`;
        const answer = await call(route("GET", "/api/changes"), { query }, "viewer");
        expect(answer.status, `page ${page} ${filter}: ${answer.text}`).toBe(200);
        const body = JSON.parse(answer.text) as { changes: { id: string }[]; nextCursor: string | null };
        seen.push(...body.changes.map((c) => c.id));
        cursor = body.nextCursor;
        if (cursor === null) break;
        expect(cursor.length, `page ${page}`).toBeLessThanOrEqual(30);
      }
      expect(cursor, filter).toBeNull();
      expect(seen, filter).toHaveLength(ROWS * DATABASES.length);
      expect(new Set(seen).size, filter).toBe(seen.length);
    }
  });

  it("pages a record's history across the four sources to the end", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page <= DATABASES.length; page++) {
      const query = `table=public.items&primaryKey=1&limit=1${cursor ? `&cursor=${cursor}` : ""}`;
      const answer = await call(route("GET", "/api/records/history"), { query }, "viewer");
      expect(answer.status, answer.text).toBe(200);
      const body = JSON.parse(answer.text) as { changes: { id: string }[]; nextCursor: string | null };
      seen.push(...body.changes.map((c) => c.id));
      cursor = body.nextCursor;
      if (cursor === null) break;
      expect(cursor.length).toBeLessThanOrEqual(30);
    }
    expect(new Set(seen).size).toBe(DATABASES.length);
  });
});
