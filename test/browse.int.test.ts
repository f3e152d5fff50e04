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
import { StoreTransaction } from "@/lib/changes/write";
import type { Change } from "@/lib/changes/queries";
import type { ChangeRow } from "@/lib/replication/change-row";
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

describe("GET /api/changes/live", () => {
  it("returns exactly what was stored since the list, from sources committing interleaved, newest first", async () => {
    const list = await getJson("changes", "limit=5");
    const token = list.liveToken as string;
    const before = new Set(ids(await listAll("", 500)));
    for (let round = 0; round < 4; round++) {
      await transaction(round % 2, [`insert into events values (${100 + round}, 'live')`]);
      await transaction(2, [`insert into audit.events values (${100 + round}, 'live')`]);
    }
    await stored();
    const now = await listAll("", 500);
    const fresh = now.filter((change) => !before.has(change.id));
    expect(fresh).toHaveLength(8);
    const live = await getJson("changes/live", `token=${token}&limit=50`);
    expect(ids(live.changes as Change[])).toEqual(ids(fresh));
    expect(live.more).toBe(false);
    // The same filters as the list; nothing new since the new token.
    const filtered = await getJson("changes/live", `token=${token}&environment=qa-eu`);
    expect(ids(filtered.changes as Change[])).toEqual(ids(fresh.filter((c) => c.environment === "qa-eu")));
    expect((await getJson("changes/live", `token=${live.token as string}`)).changes).toEqual([]);
    // More than a page: the newest page, and `more`.
    const capped = await getJson("changes/live", `token=${token}&limit=3`);
    expect(ids(capped.changes as Change[])).toEqual(ids(fresh).slice(0, 3));
    expect(capped.more).toBe(true);
  });

  it("finds a change of one source committed after a list that showed a newer id of another source", async () => {
    const { StoreTransaction } = await import("@/lib/changes/write");
    const made: string[] = [];
    for (const name of ["race_a", "race_b"]) {
      const [row] = await servers.storeQuery<{ id: string }>(
        `insert into sources (name, environment, host, port, database, username, password_encrypted, slot_name,
                              publication_name, enabled)
         values ($1, 'race', 'h', 5432, $1, 'u', 'x', $1, 'p', false) returning id::text as id`,
        [name],
      );
      made.push(row?.id ?? "");
    }
    const [a = "", b = ""] = made;
    const row = (table: string, lsn: string) => ({
      environment: "race",
      database: table,
      schema: "public",
      table,
      primaryKey: "1",
      operation: "CREATE" as const,
      before: null,
      after: '{"id": 1}',
      changedFields: null,
      unavailableFields: [],
      beforeJsonNullFields: null,
      afterJsonNullFields: null,
      partitionSchema: null,
      partitionTable: null,
      bucket: "",
      context: '{"race":true}',
      transactionId: "1",
      commitLsn: lsn,
      seq: 0,
      committedAt: "2024-05-06T07:08:09.123456Z",
      queuedAt: "2024-05-06T07:08:09.123456Z",
    });
    const lastId = async () =>
      (await servers.storeQuery<{ n: string }>("select last_value::text as n from changes_id_seq"))[0]?.n;
    // A's store transaction draws its id first and commits last; B's draws a larger id and commits first.
    const slow = new StoreTransaction(servers.storePool, a, "insert");
    const drawnBefore = await lastId();
    await slow.send([row("race_a", "0/10")]);
    await waitFor("A's row written", async () => (await lastId()) !== drawnBefore);
    const fast = new StoreTransaction(servers.storePool, b, "insert");
    await fast.send([row("race_b", "0/10")]);
    await fast.commit("0/10", null);
    const list = await getJson("changes", "environment=race");
    expect((list.changes as Change[]).map((c) => c.database)).toEqual(["race_b"]);
    await slow.commit("0/10", null);
    const live = await getJson("changes/live", `environment=race&token=${list.liveToken as string}`);
    const [late] = live.changes as Change[];
    expect(late?.database).toBe("race_a");
    // Its id is below the one the list showed: "newer than the newest id shown" would have missed it.
    expect(BigInt(late?.id ?? "0")).toBeLessThan(BigInt((list.changes as Change[])[0]?.id ?? "0"));
    await servers.storeQuery("delete from changes where source_id in ($1, $2)", [a, b]);
    await servers.storeQuery("delete from change_segments where source_id in ($1, $2)", [a, b]);
    await servers.storeQuery("delete from trail_tables where source_id in ($1, $2)", [a, b]);
    await servers.storeQuery("delete from sources where id in ($1, $2)", [a, b]);
  });
});

describe("GET /api/changes/export", () => {
  const query = "table=items&environment=production";

  it("streams NDJSON that parses and matches the list, as an attachment", async () => {
    const response = await get("changes/export", `${query}&format=ndjson`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-disposition")).toBe('attachment; filename="changes.ndjson"');
    const lines = (await response.text()).trimEnd().split("\n");
    const listed = await listAll(query, 500);
    expect(lines.map((line) => (parseJson(line) as Json).id)).toEqual(ids(listed));
    expect(lines.map((line) => (parseJson(line) as Json).after)).toEqual(
      listed.map((c) => parseJson(JSON.stringify(c.after))),
    );
  });

  it("streams CSV with a header, its JSON columns as their text", async () => {
    const response = await get("changes/export", `${query}&format=csv`);
    expect(response.headers.get("content-type")).toContain("text/csv");
    const records = parseCsv(await response.text());
    const [header, ...rows] = records;
    expect(header?.slice(0, 3)).toEqual(["id", "committedAt", "environment"]);
    const listed = await listAll(query, 500);
    const column = (name: string) => header?.indexOf(name) ?? -1;
    expect(rows.map((r) => r[column("id")])).toEqual(ids(listed));
    expect(rows.map((r) => parseJson(r[column("context")] ?? ""))).toEqual(listed.map((c) => c.context));
    expect(rows.map((r) => r[column("primaryKey")])).toEqual(listed.map((c) => c.primaryKey));
  });
});

/** RFC 4180 records (CRLF line ends, quoted fields). */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') field += text[++i];
      else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ",") {
      record.push(field);
      field = "";
    } else if (char === "\r" && text[i + 1] === "\n") {
      record.push(field);
      records.push(record);
      record = [];
      field = "";
      i++;
    } else field += char;
  }
  return records;
}

describe("GET /api/records/history", () => {
  it("lists one row's changes newest first, paged", async () => {
    const wanted = all.filter((c) => c.table === "items" && c.primaryKey === "2" && c.database === "app");
    expect(wanted.length).toBeGreaterThan(1);
    const first = await getJson("records/history", "table=items&primaryKey=2&database=app&limit=1");
    expect(ids(first.changes as Change[])).toEqual(ids(wanted).slice(0, 1));
    const rest = await getJson("records/history", `table=items&primaryKey=2&database=app&cursor=${first.nextCursor}`);
    expect(ids(rest.changes as Change[])).toEqual(ids(wanted).slice(1));
    expect(rest.nextCursor).toBeNull();
    const composite = await getJson("records/history", `table=line_items&primaryKey=${encodeURIComponent("(2,1)")}`);
    expect(ids(composite.changes as Change[])).toEqual(
      ids(all.filter((c) => c.table === "line_items" && c.primaryKey === '["2","1"]')),
    );
  });
});

describe("GET /api/trail/tables and /api/environments", () => {
  it("offers the tables the trail holds, case-insensitively, prefix matches first", async () => {
    const body = await getJson("trail/tables", "q=ITEM");
    const tables = body.tables as Json[];
    expect(tables.slice(0, 3).map((t) => `${t.schema}.${t.table}`)).toEqual(Array(3).fill("public.items"));
    expect(tables.map((t) => t.table)).toContain("line_items");
    expect(new Set(tables.map((t) => t.environment))).toEqual(new Set(["production", "staging", "qa-eu"]));
    const audit = await getJson("trail/tables", "q=audit.ev&environment=staging");
    expect(audit.tables).toEqual([{ schema: "audit", table: "events", database: "app2", environment: "staging" }]);
    expect((await getJson("trail/tables", "q=nothing")).tables).toEqual([]);
  });

  it("narrows the tables to the database and environment filters", async () => {
    const app2 = (await getJson("trail/tables", "q=e&database=app2")).tables as Json[];
    expect(app2.length).toBeGreaterThan(1);
    expect(new Set(app2.map((t) => `${t.database}/${t.environment}`))).toEqual(new Set(["app2/staging"]));
    expect(new Set(app2.map((t) => `${t.schema}.${t.table}`))).toEqual(
      new Set(TABLES.filter((t) => t.toLowerCase().includes("e"))),
    );
    const both = await getJson("trail/tables", "q=items&database=app3&environment=qa-eu");
    expect((both.tables as Json[]).map((t) => `${t.database}.${t.table}`)).toEqual(["app3.items", "app3.line_items"]);
    expect((await getJson("trail/tables", "q=items&database=app3&environment=staging")).tables).toEqual([]);
    expect((await getJson("trail/tables", "database=nowhere")).tables).toEqual([]);
  });

  it("lists the environments that exist, custom names included", async () => {
    expect((await getJson("environments", "")).environments).toEqual([
      { name: "production", databases: ["app"] },
      { name: "qa-eu", databases: ["app3"] },
      { name: "staging", databases: ["app2"] },
    ]);
  });
});

describe("GET /api/changes/activity", () => {
  it("counts the changes of the range by operation, as the list has them", async () => {
    const times = all.map((c) => Date.parse(c.committedAt));
    const from = new Date(Math.floor(Math.min(...times) / 60_000) * 60_000).toISOString();
    const to = new Date(Math.ceil((Math.max(...times) + 1) / 60_000) * 60_000).toISOString();
    for (const filters of ["", "&table=items&environment=staging", "&field=price", "&primaryKey=2"]) {
      const activity = await getJson("changes/activity", `from=${from}&to=${to}&buckets=7${filters}`);
      const buckets = activity.buckets as Array<Record<string, number>>;
      const listed = await listAll(`from=${from}&to=${to}${filters}`, 500);
      for (const operation of ["CREATE", "UPDATE", "DELETE", "TRUNCATE"]) {
        const counted = buckets.reduce((sum, bucket) => sum + (bucket[operation] ?? 0), 0);
        expect(counted, `${filters} ${operation}`).toBe(listed.filter((c) => c.operation === operation).length);
      }
      expect(activity.bucketSeconds).toBeGreaterThanOrEqual(60);
    }
  });
});

describe("validation", () => {
  it.each([
    ["changes", "operation=INSERT", "operation"],
    ["changes", "from=yesterday", "from"],
    ["changes", "from=2024-05-07T00:00:00Z&to=2024-05-06T00:00:00Z", "to"],
    ["changes", "context=%5B1%5D", "context"],
    ["changes", "context=%7B", "context"],
    ["changes", "sourceId=x", "sourceId"],
    ["changes", "limit=501", "limit"],
    ["changes", "cursor=abc", "cursor"],
    ["changes", "operation=CREATE&operation=DELETE", "operation"],
    ["changes/live", "", "token"],
    ["changes/live", "token=abc", "token"],
    ["changes/live", "token=bA&limit=0", "limit"],
    ["changes/activity", "buckets=0", "buckets"],
    ["changes/activity", "to=soon", "to"],
    ["changes/export", "format=xml", "format"],
    ["records/history", "primaryKey=1", "table"],
    ["records/history", "table=items", "primaryKey"],
    ["trail/tables", `q=${"x".repeat(201)}`, "q"],
  ])("%s?%s: 400 naming %s", async (route, query, parameter) => {
    const response = await get(route, query);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; message: string; details: { path: string }[] } };
    expect(body.error.code).toBe("invalid");
    expect(body.error.message.startsWith(`${parameter}: `), body.error.message).toBe(true);
    expect(body.error.details[0]?.path).toBe(parameter);
  });
});

describe("GET /api/changes/export on one snapshot", () => {
  const query = "table=public.events&database=app3";
  const exportedIds = async (reader: ReadableStreamDefaultReader<Uint8Array>, first: string): Promise<string[]> => {
    const decoder = new TextDecoder();
    let text = first;
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += decoder.decode(chunk.value);
    return text
      .trimEnd()
      .split("\n")
      .map((line) => String((parseJson(line) as Json).id));
  };

  beforeAll(async () => {
    // More than one export page (500 changes) of the table, so the export reads several pages.
    const values = Array.from({ length: 1100 }, (_, i) => `(${1000 + i}, 'bulk')`).join(", ");
    await transaction(2, [`insert into events values ${values}`]);
    await stored();
  }, 120_000);

  it("holds exactly the changes stored when it began, though more are stored while it streams", async () => {
    const before = ids(await listAll(query, 500));
    expect(before.length).toBeGreaterThan(1000);
    const response = await get("changes/export", `${query}&format=ndjson`);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    // Newer changes of the same table, and deletes of rows already exported, stored while the export streams.
    const values = Array.from({ length: 300 }, (_, i) => `(${5000 + i}, 'late')`).join(", ");
    await transaction(2, [`insert into events values ${values}`, "delete from events where id >= 1000 and id < 1050"]);
    await stored();
    const exported = await exportedIds(reader, new TextDecoder().decode(first.value));
    expect(exported).toEqual(before);
    const after = ids(await listAll(query, 500));
    expect(after.length).toBe(before.length + 350);
    // A new export sees them.
    const again = await get("changes/export", `${query}&format=ndjson`);
    const againReader = (again.body as ReadableStream<Uint8Array>).getReader();
    expect(await exportedIds(againReader, "")).toEqual(after);
  }, 120_000);

  it("leaves out a store transaction that drew older ids but commits while it streams", async () => {
    // Two sources of their own (no worker), written the way the worker writes: the first store transaction draws
    // its ids, then the second draws larger ones and commits; the export starts; then the first commits, its
    // changes older (by id) than every change the export's first page holds.
    const [first, second] = await Promise.all(
      ["late", "early"].map(async (name) => {
        const rows = await servers.storeQuery<{ id: string }>(
          `insert into sources (name, environment, host, port, database, username, password_encrypted,
                                slot_name, publication_name)
           values ($1, 'concurrent', 'h', 5432, $1, 'u', 'x', $2, 'p') returning id::text as id`,
          [name, `slot_${name}`],
        );
        return rows[0]?.id ?? "";
      }),
    );
    const rows = (database: string, count: number, lsn: number): ChangeRow[] =>
      Array.from({ length: count }, (_, i) => ({
        environment: "concurrent",
        database,
        schema: "public",
        table: "events",
        primaryKey: String(i),
        operation: "CREATE",
        before: null,
        after: `{"id":${i}}`,
        changedFields: null,
        unavailableFields: [],
        beforeJsonNullFields: null,
        afterJsonNullFields: null,
        partitionSchema: null,
        partitionTable: null,
        bucket: "",
        context: "{}",
        transactionId: String(lsn),
        commitLsn: `0/${lsn.toString(16).toUpperCase()}`,
        seq: i,
        committedAt: "2024-05-06T07:08:09.123456Z",
        queuedAt: "2024-05-06T07:08:10.000001Z",
      }));
    const late = new StoreTransaction(store.pool, first as string);
    await late.send(rows("late", 300, 0x2000));
    await waitFor("the first store transaction's rows written", async () => {
      const [row] = await servers.storeQuery<{ n: number }>(
        "select count(*)::int as n from pg_stat_activity where state = 'idle in transaction'",
      );
      return (row?.n ?? 0) > 0;
    });
    const early = new StoreTransaction(store.pool, second as string);
    await early.send(rows("early", 1600, 0x3000));
    await early.commit("0/3000", "2024-05-06T07:08:09.123456Z");
    const query = "environment=concurrent&table=public.events";
    const before = ids(await listAll(query, 500));
    expect(before).toHaveLength(1600); // four export pages: the stream reads one ahead of its reader

    const response = await get("changes/export", `${query}&format=ndjson`);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const page = await reader.read();
    await late.commit("0/2000", "2024-05-06T07:08:09.123456Z");
    const after = ids(await listAll(query, 500));
    expect(after).toHaveLength(1900);
    expect(after.slice(0, 1600)).toEqual(before); // the late commit's changes are older than every one before
    expect(await exportedIds(reader, new TextDecoder().decode(page.value))).toEqual(before);
  }, 60_000);

  /** Sessions of the web pool (lib/db) inside a transaction (running a statement or between two). */
  const inTransaction = async () => {
    const [row] = await servers.storeQuery<{ n: number }>(
      `select count(*)::int as n from pg_stat_activity
        where xact_start is not null and application_name = 'retrace-web' and pid <> pg_backend_pid()`,
    );
    return row?.n;
  };

  it("gives its connection back when the client goes away mid-export", async () => {
    const { getStore } = await import("@/lib/db");
    const pool = getStore().pool;
    const response = await get("changes/export", `${query}&format=csv`);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read(); // the header
    await reader.read(); // the first page: the transaction is open
    expect(pool.totalCount - pool.idleCount, "connections checked out while it streams").toBe(1);
    expect(await inTransaction(), "store sessions in a transaction while it streams").toBe(1);
    await reader.cancel();
    expect(pool.totalCount - pool.idleCount, "connections checked out once cancelled").toBe(0);
    expect(await inTransaction(), "store sessions in a transaction once cancelled").toBe(0);
  });
});
