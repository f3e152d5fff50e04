/**
 * The change browser's API on changes captured by the real worker from three source databases (three
 * environments, one of them a custom name): every filter alone and combined, checked change by change against the
 * filter's meaning, and against the full set (nothing that matches is missing); deep pages with a short cursor;
 * the live tail; export; record history; type-ahead; environments; activity; validation.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LosslessNumber, parseJson, type JsonValue } from "@/lib/api/json";
import { createApiToken } from "@/lib/auth/tokens";
import type { Change } from "@/lib/changes/queries";
import { connectStore, type Store } from "@/lib/db/client";
import { connectThroughRetrace, SECRET, startServers, type Servers } from "./support/servers";
import { waitFor } from "./support/wait";
import { startTestWorker } from "./support/worker";
import type { Worker } from "../worker/worker";

type Route = (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>;
type Json = Record<string, unknown>;

const DATABASES = [
  { database: "app", environment: "production" },
  { database: "app2", environment: "staging" },
  { database: "app3", environment: "qa-eu" },
] as const;
const TABLES = ["public.items", "public.line_items", "public.Codes", "audit.events", "public.events"];

let servers: Servers;
let store: Store;
let worker: Worker | undefined;
let token: string;
const sourceIds: string[] = [];
const pools: pg.Pool[] = [];
let expected = 0;
const routes: Record<string, Route> = {};

/** One source transaction on database `i`, optionally with an application context; counts the changes it makes. */
async function transaction(i: number, statements: string[], context?: string): Promise<void> {
  const client = await (pools[i] as pg.Pool).connect();
  try {
    await client.query("begin");
    if (context) await client.query("select pg_logical_emit_message(true, '_retrace', $1)", [context]);
    for (const statement of statements) {
      const result = await client.query(statement);
      expected += result.command === "TRUNCATE" ? 1 : (result.rowCount ?? 0);
    }
    await client.query("commit");
  } finally {
    client.release();
  }
}

async function stored(): Promise<void> {
  await waitFor(`${expected} changes stored`, async () => {
    const [row] = await servers.storeQuery<{ n: number }>("select count(*)::int as n from changes");
    return row?.n === expected;
  });
}

/** Ids from here on start in a new block of the change summary, so a table's changes span several segments. */
async function nextBlock(): Promise<void> {
  await servers.storeQuery("select setval('changes_id_seq', nextval('changes_id_seq') + 20000)");
}

function get(route: string, query: string): Promise<Response> {
  const request = new Request(`http://localhost/api/${route}?${query}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return (routes[route] as Route)(request, { params: Promise.resolve({}) });
}

async function getJson(route: string, query: string): Promise<Json> {
  const response = await get(route, query);
  const text = await response.text();
  expect(response.status, `${route}?${query}: ${text}`).toBe(200);
  return parseJson(text) as Json;
}

/** Every change a filtered list shows, page by page (`limit` a page); checks each cursor stays short. */
async function listAll(query: string, limit = 7): Promise<Change[]> {
  const changes: Change[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 500; pages++) {
    const page = await getJson("changes", `${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`);
    changes.push(...(page.changes as Change[]));
    cursor = page.nextCursor as string | null;
    if (cursor === null) return changes;
    expect(cursor.length).toBeLessThanOrEqual(30);
  }
  throw new Error("too many pages");
}

/** PostgreSQL's jsonb `@>` on parsed JSON: objects by key, arrays by element, scalars by type and value. */
function contains(value: unknown, wanted: unknown): boolean {
  if (wanted instanceof LosslessNumber) return value instanceof LosslessNumber && Number(value) === Number(wanted);
  if (Array.isArray(wanted)) {
    return Array.isArray(value) && wanted.every((w) => value.some((v: unknown) => contains(v, w)));
  }
  if (wanted !== null && typeof wanted === "object") {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
    const object = value as Record<string, unknown>;
    return Object.entries(wanted).every(([key, w]) => key in object && contains(object[key], w));
  }
  return value === wanted;
}

const contextOf = (change: Change): JsonValue => parseJson(JSON.stringify(change.context));
const micros = (time: string) => BigInt(Date.parse(time.slice(0, 23) + "Z")) * 1000n + BigInt(time.slice(23, 26));
const ids = (changes: Change[]) => changes.map((change) => change.id);

let all: Change[] = [];

beforeAll(async () => {
  servers = await startServers();
  for (const { database } of DATABASES) {
    if (database !== "app") await servers.source.createDatabase(database);
    const pool = new pg.Pool({ connectionString: servers.source.url(database), max: 2 });
    pool.on("error", () => undefined);
    pools.push(pool);
    await pool.query(`
      create schema audit;
      create table items (id int primary key, name text, price int);
      create table line_items (order_id int, line int, note text, primary key (order_id, line));
      create table "Codes" (code text primary key, label text);
      create table audit.events (id int primary key, kind text);
      create table events (id int primary key, kind text);`);
  }
  for (const { database, environment } of DATABASES) {
    sourceIds.push(await connectThroughRetrace(servers, { database, environment, tables: TABLES }));
  }
  process.env.DATABASE_URL = servers.storeUrl;
  process.env.RETRACE_SECRET = SECRET;
  store = connectStore(servers.storeUrl, { max: 2 });
  token = (await createApiToken(store.db, "browse")).token;
  routes.changes = (await import("@/app/api/changes/route")).GET as Route;
  routes["changes/live"] = (await import("@/app/api/changes/live/route")).GET as Route;
  routes["changes/activity"] = (await import("@/app/api/changes/activity/route")).GET as Route;
  routes["changes/export"] = (await import("@/app/api/changes/export/route")).GET as Route;
  routes["records/history"] = (await import("@/app/api/records/history/route")).GET as Route;
  routes["trail/tables"] = (await import("@/app/api/trail/tables/route")).GET as Route;
  routes.environments = (await import("@/app/api/environments/route")).GET as Route;
  worker = startTestWorker(servers);

  // Creates, interleaved across the sources; a third of the transactions with a context, numbers and strings.
  for (let round = 1; round <= 6; round++) {
    for (let i = 0; i < DATABASES.length; i++) {
      const context = (round + i) % 3 === 0 ? `{"user_id":${round % 2 ? "42" : '"42"'},"round":${round}}` : undefined;
      await transaction(
        i,
        [
          `insert into items values (${round}, 'n${round}', ${round * 10})`,
          `insert into line_items values (${round}, 1, 'a'), (${round}, 2, 'b')`,
          `insert into "Codes" values ('${round === 1 ? "a,b" : `c${round}`}', 'l')`,
          `insert into audit.events values (${round}, 'k')`,
          `insert into events values (${round}, 'k')`,
        ],
        context,
      );
    }
  }
  await stored();
  await nextBlock();
  // Updates of one column or another, deletes, then a TRUNCATE in one database.
  for (let i = 0; i < DATABASES.length; i++) {
    await transaction(i, ["update items set price = price + 1 where id <= 3"], '{"user_id":7}');
    await transaction(i, ["update items set name = 'x' || id where id in (2, 4)"]);
    await transaction(i, ["update line_items set note = 'n' where order_id = 2", "delete from items where id = 5"]);
    await transaction(i, ["delete from line_items where order_id = 3", "update \"Codes\" set label = 'L'"]);
  }
  await stored();
  await nextBlock();
  await transaction(1, ["truncate events"]);
  await transaction(0, ["insert into items values (7, 'late', 70)"], '{"user_id":42,"endpoint":"POST /orders"}');
  await stored();
  all = await listAll("", 500);
}, 180_000);

afterAll(async () => {
  await worker?.stop();
  await Promise.allSettled(pools.map((pool) => pool.end()));
  await store?.pool.end();
  const { getStore } = await import("@/lib/db");
  await getStore()
    .pool.end()
    .catch(() => undefined);
  await servers?.stop();
});

describe("GET /api/changes on captured changes", () => {
  it("lists every stored change once, newest first", () => {
    expect(all).toHaveLength(expected);
    const sorted = [...all].sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1));
    expect(ids(all)).toEqual(ids(sorted));
    expect(new Set(ids(all)).size).toBe(all.length);
  });

  const lower = (text: string) => text.toLowerCase();
  type Case = { query: string; matches: (change: Change) => boolean; some?: boolean };
  const cases: Array<() => Case> = [
    () => ({ query: "operation=delete", matches: (c) => c.operation === "DELETE", some: true }),
    () => ({ query: "operation=CREATE,Update", matches: (c) => c.operation === "CREATE" || c.operation === "UPDATE" }),
    () => ({ query: "operation=TRUNCATE", matches: (c) => c.operation === "TRUNCATE", some: true }),
    () => ({ query: "table=ITEMS", matches: (c) => c.table === "items", some: true }),
    () => ({ query: "table=codes", matches: (c) => c.table === "Codes", some: true }),
    () => ({ query: "table=audit.EVENTS", matches: (c) => c.table === "events" && c.schema === "audit", some: true }),
    () => ({ query: "table=events", matches: (c) => lower(c.table) === "events", some: true }),
    () => ({ query: "table=nothing.here", matches: () => false }),
    () => ({ query: "primaryKey=3", matches: (c) => c.primaryKey === "3", some: true }),
    ...["2,1", "(2, 1)", '["2","1"]', "[2,1]"].map((key) => () => ({
      query: `primaryKey=${encodeURIComponent(key)}`,
      matches: (c: Change) => c.primaryKey === '["2","1"]',
      some: true,
    })),
    () => ({ query: "primaryKey=a%2Cb", matches: (c) => c.primaryKey === "a,b", some: true }),
    () => ({ query: "environment=staging", matches: (c) => c.environment === "staging", some: true }),
    () => ({ query: "environment=qa-eu", matches: (c) => c.environment === "qa-eu", some: true }),
    () => ({ query: "environment=nowhere", matches: () => false }),
    () => ({ query: "database=app3", matches: (c) => c.database === "app3", some: true }),
    () => ({ query: `sourceId=${sourceIds[1]}`, matches: (c) => c.sourceId === sourceIds[1], some: true }),
    () => ({ query: "field=price", matches: (c) => c.operation === "UPDATE" && !!c.changedFields?.includes("price") }),
    () => ({ query: "field=name&operation=UPDATE,DELETE", matches: (c) => !!c.changedFields?.includes("name") }),
    () => ({ query: "field=price&operation=CREATE", matches: () => false }),
    () => ({ query: "field=nosuchcolumn", matches: () => false }),
    () => ({
      query: `context=${encodeURIComponent('{"user_id":42}')}`,
      matches: (c) => contains(contextOf(c), parseJson('{"user_id":42}')),
      some: true,
    }),
    () => ({
      query: `context=${encodeURIComponent('{"user_id":"42"}')}`,
      matches: (c) => contains(contextOf(c), parseJson('{"user_id":"42"}')),
      some: true,
    }),
    () => ({ query: `context=${encodeURIComponent('{"user_id":43}')}`, matches: () => false }),
    () => {
      const [from, to] = [all[40]?.committedAt ?? "", all[10]?.committedAt ?? ""];
      return {
        query: `from=${from}&to=${to}`,
        matches: (c) => micros(c.committedAt) >= micros(from) && micros(c.committedAt) < micros(to),
        some: true,
      };
    },
    () => {
      const from = all[25]?.committedAt ?? "";
      return { query: `from=${from}`, matches: (c) => micros(c.committedAt) >= micros(from), some: true };
    },
    () => {
      const to = all[60]?.committedAt ?? "";
      return {
        query: `to=${to}&table=items`,
        matches: (c) => micros(c.committedAt) < micros(to) && c.table === "items",
      };
    },
    () => ({
      query: "operation=DELETE&table=items&environment=staging",
      matches: (c) => c.operation === "DELETE" && c.table === "items" && c.environment === "staging",
      some: true,
    }),
    () => ({
      query: "field=name&environment=production&table=public.items",
      matches: (c) => !!c.changedFields?.includes("name") && c.environment === "production" && c.table === "items",
      some: true,
    }),
    () => ({
      query: `context=${encodeURIComponent('{"user_id":42}')}&table=items&operation=CREATE&database=app`,
      matches: (c) =>
        contains(contextOf(c), parseJson('{"user_id":42}')) &&
        c.table === "items" &&
        c.operation === "CREATE" &&
        c.database === "app",
      some: true,
    }),
    () => ({
      query: `primaryKey=2&environment=production&operation=UPDATE`,
      matches: (c) => c.primaryKey === "2" && c.environment === "production" && c.operation === "UPDATE",
      some: true,
    }),
    () => ({ query: "operation=TRUNCATE&environment=production", matches: () => false }),
  ];

  it.each(cases.map((make, index) => ({ index, make })))("filter case $index", async ({ make }) => {
    const { query, matches, some } = make();
    const listed = await listAll(query);
    for (const change of listed) expect(matches(change), `${query}: change ${change.id} does not match`).toBe(true);
    const wanted = all.filter(matches);
    expect(ids(listed), query).toEqual(ids(wanted));
    if (some) expect(wanted.length, query).toBeGreaterThan(0);
  });

  it("keeps the cursor a few characters long across three sources and deep pages", async () => {
    const pages: string[] = [];
    let cursor = "";
    for (let page = 0; page < 12; page++) {
      const body = await getJson("changes", `limit=3${cursor ? `&cursor=${cursor}` : ""}`);
      cursor = body.nextCursor as string;
      pages.push(cursor);
    }
    expect(Math.max(...pages.map((c) => c.length))).toBeLessThanOrEqual(30);
  });
});
