import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiToken } from "@/lib/auth/tokens";
import { encodeCursor } from "@/lib/changes/cursor";
import { LosslessNumber, parseJson } from "@/lib/api/json";
import { listChanges, getChange, type Change, type ChangeFilters } from "@/lib/changes/queries";
import { connectStore, type Store } from "@/lib/db/client";
import { summarizeStoredRows } from "@/lib/changes/segments";
import { deleteSource } from "@/lib/sources/source-lifecycle";
import { startWebStore, type TestServer } from "./support/postgres";
import { waitFor } from "./support/wait";

type Route = (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>;

let web: Awaited<ReturnType<typeof startWebStore>> | undefined;
let server: TestServer;
let store: Store;
let sourceA: string;
let sourceB: string;
let token: string;
let listRoute: Route;
let detailRoute: Route;

let lsnCounter = 0;
type Insert = {
  source?: string;
  environment?: string;
  database?: string;
  schema?: string;
  table?: string;
  primaryKey?: string | null;
  operation?: "CREATE" | "UPDATE" | "DELETE" | "TRUNCATE";
  before?: string | null;
  after?: string | null;
  changedFields?: string[] | null;
  beforeJsonNullFields?: string[] | null;
  afterJsonNullFields?: string[] | null;
  context?: string;
  transactionId?: string;
  commitLsn?: string;
  seq?: number;
};

/** Inserts one change (JSON given as text, stored as it is); returns its id. */
async function insertChange(values: Insert = {}): Promise<string> {
  lsnCounter += 1;
  const result = await server.query<{ id: string }>(
    `insert into changes (source_id, environment, database, schema, "table", primary_key, operation,
       before, after, changed_fields, context, transaction_id, commit_lsn, seq, committed_at, queued_at,
       before_json_null_fields, after_json_null_fields)
     values ($1, $2, $3, $4, $5, $6, $7, $8::json, $9::json, $10, $11::jsonb, $12, $13::pg_lsn, $14,
       '2024-05-06 07:08:09.123456+00', now(), $15, $16)
     returning id::text as id`,
    [
      values.source ?? sourceA,
      values.environment ?? "production",
      values.database ?? "shop",
      values.schema ?? "public",
      values.table ?? "items",
      values.primaryKey === undefined ? "1" : values.primaryKey,
      values.operation ?? "CREATE",
      values.before ?? null,
      values.after === undefined ? '{"id": 1}' : values.after,
      values.changedFields ?? null,
      values.context ?? null, // as the worker stores no context
      values.transactionId ?? String(1000 + lsnCounter),
      values.commitLsn ?? `0/${(0x1000 + lsnCounter).toString(16).toUpperCase()}`,
      values.seq ?? 0,
      values.beforeJsonNullFields ?? null,
      values.afterJsonNullFields ?? null,
    ],
    "retrace",
  );
  const id = result.rows[0]?.id;
  if (!id) throw new Error("insert returned no id");
  // What the worker writes with every store commit (lib/changes/segments.ts), the list reads it.
  await summarizeStoredRows(store.pool, id, id);
  return id;
}

async function changeCount(source: string): Promise<number> {
  const result = await server.query<{ n: number }>(
    "select count(*)::int as n from changes where source_id = $1",
    [source],
    "retrace",
  );
  return result.rows[0]?.n ?? -1;
}

async function insertSource(name: string, environment: string): Promise<string> {
  const result = await server.query<{ id: string }>(
    `insert into sources (name, host, port, database, username, password_encrypted, environment,
                          slot_name, publication_name)
     values ($1, 'localhost', 5432, 'shop', 'retrace', 'v1:dummy', $2, $3, 'retrace_pub') returning id::text as id`,
    [name, environment, `retrace_${name}`],
    "retrace",
  );
  const id = result.rows[0]?.id;
  if (!id) throw new Error("source insert returned no id");
  return id;
}

const ids = (changes: Change[]) => changes.map((c) => c.id);
const all = (filters: ChangeFilters) => listChanges(store.db, filters, { limit: 500 });

function get(path: string, headers: Record<string, string> = {}): Request {
  return new Request(`http://localhost${path}`, { headers });
}
const noParams = { params: Promise.resolve({}) };

beforeAll(async () => {
  web = await startWebStore();
  server = web.server;
  store = connectStore(web.url, { max: 4 });
  sourceA = await insertSource("a", "production");
  sourceB = await insertSource("b", "staging");
  token = (await createApiToken(store.db, "test")).token;

  listRoute = (await import("@/app/api/changes/route")).GET as Route;
  detailRoute = (await import("@/app/api/changes/[id]/route")).GET as Route;
});

afterAll(async () => {
  await store?.pool.end();
  await web?.close();
});

describe("listChanges filters", () => {
  const made: Record<string, string> = {};

  beforeAll(async () => {
    await server.query("truncate changes, change_segments, trail_tables", [], "retrace");
    made.create = await insertChange({ operation: "CREATE", table: "items", primaryKey: "1" });
    made.update = await insertChange({
      operation: "UPDATE",
      table: "items",
      primaryKey: "1",
      before: '{"id": 1, "name": "a"}',
      after: '{"id": 1, "name": "b"}',
      changedFields: ["name"],
    });
    made.delete = await insertChange({
      operation: "DELETE",
      table: "items",
      primaryKey: "2",
      before: '{"id": 2}',
      after: null,
    });
    made.otherSchema = await insertChange({ operation: "CREATE", schema: "billing", table: "items", primaryKey: "1" });
    made.orders = await insertChange({ operation: "UPDATE", table: "orders", primaryKey: "1" });
    made.staging = await insertChange({
      source: sourceB,
      environment: "staging",
      database: "shop_staging",
      operation: "UPDATE",
      table: "items",
      primaryKey: "1",
    });
    made.truncate = await insertChange({ operation: "TRUNCATE", table: "orders", primaryKey: null, after: null });
  });

  it("returns everything newest first without filters", async () => {
    const { changes, nextCursor } = await all({});
    expect(ids(changes)).toEqual(Object.values(made).reverse());
    expect(nextCursor).toBeNull();
  });

  it("filters by operation", async () => {
    expect(ids((await all({ operation: "UPDATE" })).changes)).toEqual([made.staging, made.orders, made.update]);
    expect(ids((await all({ operation: "TRUNCATE" })).changes)).toEqual([made.truncate]);
  });

  it("filters by table, with or without the schema", async () => {
    expect(ids((await all({ table: "items" })).changes)).toEqual([
      made.staging,
      made.otherSchema,
      made.delete,
      made.update,
      made.create,
    ]);
    expect(ids((await all({ table: "billing.items" })).changes)).toEqual([made.otherSchema]);
    expect(ids((await all({ table: "public.items" })).changes)).toEqual([
      made.staging,
      made.delete,
      made.update,
      made.create,
    ]);
    expect((await all({ table: "nope" })).changes).toEqual([]);
  });

  it("filters by primary key exactly", async () => {
    expect(ids((await all({ table: "public.items", primaryKey: "2" })).changes)).toEqual([made.delete]);
    expect(ids((await all({ primaryKey: "1" })).changes)).toHaveLength(5);
    expect((await all({ primaryKey: "1 " })).changes).toEqual([]);
  });

  it("filters by environment, database and source", async () => {
    expect(ids((await all({ environment: "staging" })).changes)).toEqual([made.staging]);
    expect(ids((await all({ database: "shop_staging" })).changes)).toEqual([made.staging]);
    expect(ids((await all({ sourceId: sourceB })).changes)).toEqual([made.staging]);
    expect((await all({ environment: "production" })).changes).toHaveLength(6);
  });

  it("combines filters with AND", async () => {
    expect(ids((await all({ operation: "UPDATE", table: "items", environment: "production" })).changes)).toEqual([
      made.update,
    ]);
    expect(ids((await all({ operation: "CREATE", table: "billing.items", primaryKey: "1" })).changes)).toEqual([
      made.otherSchema,
    ]);
    expect((await all({ operation: "DELETE", environment: "staging" })).changes).toEqual([]);
  });

  it("returns the columns as the API shows them", async () => {
    const [change] = (await all({ operation: "UPDATE", environment: "production", table: "items" })).changes;
    expect(change).toMatchObject({
      id: made.update,
      sourceId: sourceA,
      environment: "production",
      database: "shop",
      schema: "public",
      table: "items",
      primaryKey: "1",
      operation: "UPDATE",
      changedFields: ["name"],
      committedAt: "2024-05-06T07:08:09.123456Z",
    });
    expect(change?.before?.text).toBe('{"id": 1, "name": "a"}');
    expect(change?.after?.text).toBe('{"id": 1, "name": "b"}');
    expect(change?.context.text).toBe("{}");
    expect(change?.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });
});

describe("keyset pagination", () => {
  it("walks 120 rows in pages of 50 with no overlap and no gap", async () => {
    await server.query("truncate changes, change_segments, trail_tables", [], "retrace");
    const inserted: string[] = [];
    for (let i = 0; i < 120; i++) inserted.push(await insertChange({ primaryKey: String(i) }));
    // A row that does not match the filter must not disturb the pages.
    await insertChange({ operation: "DELETE", primaryKey: "x", after: null });

    const seen: string[] = [];
    const pageSizes: number[] = [];
    let cursor: string | undefined;
    for (let guard = 0; guard < 10; guard++) {
      const page = await listChanges(store.db, { operation: "CREATE" }, { cursor, limit: 50 });
      seen.push(...ids(page.changes));
      pageSizes.push(page.changes.length);
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(pageSizes).toEqual([50, 50, 20]);
    expect(seen).toEqual([...inserted].reverse());
  });

  it("returns a null cursor when the last page is exactly full", async () => {
    const first = await listChanges(store.db, { operation: "CREATE" }, { limit: 60 });
    expect(first.nextCursor).not.toBeNull();
    const second = await listChanges(
      store.db,
      { operation: "CREATE" },
      { cursor: first.nextCursor ?? undefined, limit: 60 },
    );
    expect(second.changes).toHaveLength(60);
    expect(second.nextCursor).toBeNull();
  });

  it("pages through an environment of several sources in id order, merged across them", async () => {
    await server.query("truncate changes, change_segments, trail_tables", [], "retrace");
    const sourceC = await insertSource("c", "staging");
    const staging: string[] = [];
    for (let i = 0; i < 45; i++) {
      // Interleaved: B, C, then a production change that must not appear; C's come in runs.
      staging.push(
        await insertChange({ source: i % 3 === 0 ? sourceB : sourceC, environment: "staging", primaryKey: String(i) }),
      );
      if (i % 4 === 0) await insertChange({ source: sourceA, primaryKey: String(i) });
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let guard = 0; guard < 10; guard++) {
      const page = await listChanges(store.db, { environment: "staging" }, { cursor, limit: 7 });
      seen.push(...ids(page.changes));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(seen).toEqual([...staging].reverse());
    // One source alone, and one source of the environment: its own rows, pages continuing where it stopped.
    const onlyC = staging.filter((_, i) => i % 3 !== 0).reverse();
    for (const filters of [{ sourceId: sourceC }, { sourceId: sourceC.toUpperCase(), environment: "staging" }]) {
      const pages: string[][] = [];
      cursor = undefined;
      for (let guard = 0; guard < 10; guard++) {
        const page = await listChanges(store.db, filters, { cursor, limit: 7 });
        pages.push(ids(page.changes));
        if (!page.nextCursor) break;
        cursor = page.nextCursor;
      }
      expect(pages.flat()).toEqual(onlyC);
      expect(pages.map((p) => p.length)).toEqual([7, 7, 7, 7, 2]);
    }
    // A change stored after the first page (a newer id) does not slip into later pages.
    const first = await listChanges(store.db, { environment: "staging" }, { limit: 7 });
    await insertChange({ source: sourceB, environment: "staging", primaryKey: "late" });
    const second = await listChanges(
      store.db,
      { environment: "staging" },
      { cursor: first.nextCursor ?? undefined, limit: 7 },
    );
    expect(ids(second.changes)).toEqual([...staging].reverse().slice(7, 14));
    // With another filter, and an environment with no sources at all.
    const creates = await listChanges(store.db, { environment: "staging", primaryKey: "3" }, { limit: 10 });
    expect(ids(creates.changes)).toEqual([staging[3]]);
    expect((await listChanges(store.db, { environment: "nowhere" }, { limit: 10 })).changes).toEqual([]);
    await server.query("delete from sources where id = $1", [sourceC], "retrace");
  });

  it("rejects a cursor it did not hand out", async () => {
    // Invalid: answered 400 (lib/http/errors.ts).
    const invalid = { name: "Invalid", code: "invalid" };
    await expect(listChanges(store.db, {}, { cursor: "not-a-cursor", limit: 10 })).rejects.toMatchObject(invalid);
    await expect(listChanges(store.db, {}, { cursor: encodeCursor("-1"), limit: 10 })).rejects.toMatchObject(invalid);
    await expect(
      listChanges(store.db, {}, { cursor: encodeCursor("99999999999999999999"), limit: 10 }),
    ).rejects.toMatchObject(invalid);
    const lsnOnly = Buffer.from("c:10,00000000-0000-4000-8000-000000000001@0/1", "utf8").toString("base64url");
    await expect(
      listChanges(store.db, { environment: "staging" }, { cursor: lsnOnly, limit: 10 }),
    ).rejects.toMatchObject(invalid);
  });
});

describe("GET /api/changes", () => {
  const bigInt = "9223372036854775807";
  const bigNumeric = "1234567890123456789012345678901234567890";
  const bigDecimal = "0.1000000000000000000000000000000000000001";
  let exactId: string;

  beforeAll(async () => {
    await server.query("truncate changes, change_segments, trail_tables", [], "retrace");
    await insertChange({ operation: "CREATE", table: "items", primaryKey: "1" });
    exactId = await insertChange({
      operation: "UPDATE",
      table: "ledger",
      primaryKey: bigInt,
      before: `{"id": ${bigInt}, "amount": 1, "note": "null", "gone": null}`,
      after:
        `{"id": ${bigInt}, "amount": ${bigNumeric}, "fraction": ${bigDecimal}, "note": null, "gone": null, ` +
        `"doc": null}`,
      changedFields: ["amount", "note", "doc"],
      afterJsonNullFields: ["doc"],
      context: '{"user": "ann", "requestId": 18446744073709551617}',
      transactionId: "4294967296123",
    });
  });

  const auth = () => ({ authorization: `Bearer ${token}` });

  it("answers 401 without a session or token", async () => {
    const response = await listRoute(get("/api/changes"), noParams);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: "unauthorized" } });
  });

  it("answers 401 with a wrong token", async () => {
    const response = await listRoute(get("/api/changes", { authorization: "Bearer rt_wrong" }), noParams);
    expect(response.status).toBe(401);
  });

  it("lists changes with a Bearer token", async () => {
    const response = await listRoute(get("/api/changes?limit=1", auth()), noParams);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("application/json");
    const body = (await response.json()) as { changes: Record<string, unknown>[]; nextCursor: string | null };
    expect(body.changes).toHaveLength(1);
    expect(Object.keys(body.changes[0] ?? {}).sort()).toEqual(
      [
        "id",
        "sourceId",
        "environment",
        "database",
        "sourceName",
        "schema",
        "table",
        "primaryKey",
        "operation",
        "before",
        "after",
        "changedFields",
        "unavailableFields",
        "beforeJsonNullFields",
        "afterJsonNullFields",
        "partition",
        "context",
        "transactionId",
        "commitLsn",
        "seq",
        "committedAt",
        "createdAt",
      ].sort(),
    );
    expect(body.changes[0]).toMatchObject({
      id: exactId,
      operation: "UPDATE",
      transactionId: "4294967296123",
      commitLsn: expect.stringMatching(/^0\//),
    });
    expect(typeof body.nextCursor).toBe("string");

    const next = await listRoute(get(`/api/changes?limit=1&cursor=${body.nextCursor ?? ""}`, auth()), noParams);
    const nextBody = (await next.json()) as { changes: { table: string }[]; nextCursor: string | null };
    expect(nextBody.changes.map((c) => c.table)).toEqual(["items"]);
    expect(nextBody.nextCursor).toBeNull();
  });

  it("applies filters from the query string, operation case-insensitively", async () => {
    const response = await listRoute(
      get("/api/changes?operation=update&table=public.ledger&environment=production&primaryKey=", auth()),
      noParams,
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as { changes: { id: string }[] };
    expect(body.changes.map((c) => c.id)).toEqual([exactId]);
    const none = (await (await listRoute(get("/api/changes?operation=DELETE", auth()), noParams)).json()) as {
      changes: unknown[];
    };
    expect(none.changes).toEqual([]);
  });

  it("keeps int8 and numeric values digit for digit", async () => {
    const response = await listRoute(get("/api/changes?table=ledger", auth()), noParams);
    const text = await response.text();
    expect(text).toContain(`"id": ${bigInt}`);
    expect(text).toContain(`"amount": ${bigNumeric}`);
    expect(text).toContain(`"fraction": ${bigDecimal}`);
    expect(text).toContain('"requestId": 18446744073709551617');
    expect(text).toContain(`"primaryKey":"${bigInt}"`);

    const body = parseJson(text);
    const change = (body as { changes: { after: Record<string, unknown>; before: Record<string, unknown> }[] })
      .changes[0];
    expect(change?.after.amount).toEqual(new LosslessNumber(bigNumeric));
    expect(change?.after.id).toEqual(new LosslessNumber(bigInt));
    // NULL and the string "null" stay different things.
    expect(change?.after.note).toBeNull();
    expect(change?.before.note).toBe("null");
  });

  it("says which nulls of an image are JSON null rather than SQL NULL", async () => {
    const response = await listRoute(get("/api/changes?table=ledger", auth()), noParams);
    const text = await response.text();
    expect(text).toContain('"beforeJsonNullFields":null');
    expect(text).toContain('"afterJsonNullFields":["doc"]');
    const change = (parseJson(text) as { changes: Record<string, unknown>[] }).changes[0];
    expect(change).toMatchObject({ beforeJsonNullFields: null, afterJsonNullFields: ["doc"] });
    expect((change?.after as Record<string, unknown>).doc).toBeNull();
  });

  it("answers 400 on a bad operation, limit or cursor", async () => {
    for (const query of [
      "operation=INSERT",
      "limit=0",
      "limit=501",
      "limit=abc",
      "limit=1.5",
      "cursor=abc",
      `cursor=${encodeCursor("x")}`,
      "sourceId=not-a-uuid",
    ]) {
      const response = await listRoute(get(`/api/changes?${query}`, auth()), noParams);
      expect(response.status, query).toBe(400);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code, query).toBe("invalid");
      expect(body.error.message.length, query).toBeGreaterThan(0);
    }
    const bad = (await (await listRoute(get("/api/changes?operation=INSERT", auth()), noParams)).json()) as {
      error: { message: string };
    };
    expect(bad.error.message).toContain("CREATE, UPDATE, DELETE, TRUNCATE");
  });

  it("accepts the maximum limit of 500", async () => {
    const response = await listRoute(get("/api/changes?limit=500", auth()), noParams);
    expect(response.status).toBe(200);
  });
});

describe("getChange and GET /api/changes/:id", () => {
  it("returns the change and its whole transaction in commit order", async () => {
    await server.query("truncate changes, change_segments, trail_tables", [], "retrace");
    const lsn = "1/ABCDEF";
    const first = await insertChange({ commitLsn: lsn, seq: 0, transactionId: "77", table: "orders" });
    const second = await insertChange({ commitLsn: lsn, seq: 1, transactionId: "77", operation: "UPDATE" });
    const third = await insertChange({
      commitLsn: lsn,
      seq: 2,
      transactionId: "77",
      operation: "DELETE",
      after: null,
      before: "{}",
    });
    // Same LSN on another source is another transaction.
    await insertChange({ source: sourceB, environment: "staging", commitLsn: lsn, seq: 0 });
    await insertChange({ commitLsn: "1/ABCDF0", seq: 0 });

    const detail = await getChange(store.db, second);
    expect(detail?.change.id).toBe(second);
    expect(detail?.change.commitLsn).toBe(lsn);
    expect(detail?.transaction.map((c) => c.id)).toEqual([first, second, third]);
    expect(detail?.transactionTruncated).toBe(false);
    expect(await getChange(store.db, "987654321")).toBeNull();

    const response = await detailRoute(get(`/api/changes/${second}`, { authorization: `Bearer ${token}` }), {
      params: Promise.resolve({ id: second }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      change: { id: string; transactionId: string };
      transaction: { id: string }[];
    };
    expect(body.change).toMatchObject({ id: second, transactionId: "77" });
    expect(body.transaction.map((c) => c.id)).toEqual([first, second, third]);
  });

  it("answers 404 for an unknown or malformed id and 401 without auth", async () => {
    for (const id of ["987654321", "abc", "0", "99999999999999999999"]) {
      const response = await detailRoute(get(`/api/changes/${id}`, { authorization: `Bearer ${token}` }), {
        params: Promise.resolve({ id }),
      });
      expect(response.status, id).toBe(404);
    }
    const anonymous = await detailRoute(get("/api/changes/1"), { params: Promise.resolve({ id: "1" }) });
    expect(anonymous.status).toBe(401);
  });
});

describe("the source's name", () => {
  it("comes with each change beside the database's, as the source is named now", async () => {
    const inA = await insertChange({ table: "named", primaryKey: "1" });
    const inB = await insertChange({ source: sourceB, environment: "staging", table: "named", primaryKey: "2" });
    const listed = async () =>
      Object.fromEntries(
        (await all({ table: "named" })).changes.map((c) => [c.id, { database: c.database, sourceName: c.sourceName }]),
      );
    expect(await listed()).toEqual({
      [inA]: { database: "shop", sourceName: "a" },
      [inB]: { database: "shop", sourceName: "b" },
    });

    await server.query("update sources set name = 'Shop (demo)' where id = $1", [sourceA], "retrace");
    try {
      expect((await listed())[inA]).toEqual({ database: "shop", sourceName: "Shop (demo)" });
      const response = await detailRoute(get(`/api/changes/${inA}`, { authorization: `Bearer ${token}` }), {
        params: Promise.resolve({ id: inA }),
      });
      const body = (await response.json()) as { change: { sourceName: string }; transaction: { sourceName: string }[] };
      expect(body.change.sourceName).toBe("Shop (demo)");
      expect(body.transaction.map((c) => c.sourceName)).toEqual(["Shop (demo)"]);
    } finally {
      await server.query("update sources set name = 'a' where id = $1", [sourceA], "retrace");
    }
  });
});

describe("row images", () => {
  it("come back exactly as written, keys in the order written", async () => {
    await server.query("truncate changes, change_segments, trail_tables", [], "retrace");
    // jsonb would answer {"a": 2, "zeta": 1} (keys by length) and 1.5 for 1.50.
    const id = await insertChange({
      operation: "UPDATE",
      before: '{"zeta":1,"a":2,"mid":1.50}',
      after: '{"zeta":1,"a":3,"mid":1.50,"doc":{"y":1,"x":2}}',
      changedFields: ["a"],
    });
    const [listed] = (await all({})).changes;
    expect(listed?.id).toBe(id);
    expect(listed?.before?.text).toBe('{"zeta":1,"a":2,"mid":1.50}');
    expect(listed?.after?.text).toBe('{"zeta":1,"a":3,"mid":1.50,"doc":{"y":1,"x":2}}');
    const detail = await getChange(store.db, id);
    expect(detail?.change.after?.text).toBe('{"zeta":1,"a":3,"mid":1.50,"doc":{"y":1,"x":2}}');

    const response = await detailRoute(get(`/api/changes/${id}`, { authorization: `Bearer ${token}` }), {
      params: Promise.resolve({ id }),
    });
    const body = parseJson(await response.text()) as { change: { after: Record<string, unknown> } };
    expect(Object.keys(body.change.after)).toEqual(["zeta", "a", "mid", "doc"]);
  });
});

describe("deleteSource", () => {
  it("deletes the source, its tracked tables and its changes, and nothing of another source", async () => {
    await server.query("truncate changes, change_segments, trail_tables", [], "retrace");
    const doomed = await insertSource("doomed", "production");
    await server.query(
      "insert into tracked_tables (source_id, schema, \"table\") values ($1, 'public', 'items')",
      [doomed],
      "retrace",
    );
    for (let i = 0; i < 3; i++) await insertChange({ source: doomed, primaryKey: String(i) });
    const keptA = await insertChange({ source: sourceA });
    const keptB = await insertChange({ source: sourceB, environment: "staging" });

    expect(await deleteSource(store.db, doomed)).toBe(true);

    expect(await changeCount(doomed)).toBe(0);
    expect(ids((await all({})).changes)).toEqual([keptB, keptA]);
    const left = await server.query<{ sources: number; tracked: number }>(
      `select (select count(*)::int from sources where id = $1) as sources,
              (select count(*)::int from tracked_tables where source_id = $1) as tracked`,
      [doomed],
      "retrace",
    );
    expect(left.rows[0]).toEqual({ sources: 0, tracked: 0 });
    expect(await deleteSource(store.db, doomed)).toBe(false);
  });

  it("waits for a store commit in flight and deletes the rows it committed", async () => {
    const doomed = await insertSource("in-flight", "production");
    await insertChange({ source: doomed, primaryKey: "before" });
    // What a worker's store transaction does: insert changes, then advance the source's checkpoint.
    const worker = new pg.Client({ connectionString: server.url("retrace") });
    await worker.connect();
    try {
      await worker.query("begin");
      await worker.query(
        `insert into changes (source_id, environment, database, schema, "table", primary_key, operation,
           after, transaction_id, commit_lsn, seq, committed_at, queued_at)
         values ($1, 'production', 'shop', 'public', 'items', 'in flight', 'CREATE',
                 '{"id":9}', 9, '9/9', 0, now(), now())`,
        [doomed],
      );
      await worker.query("update sources set checkpoint_lsn = '9/9' where id = $1", [doomed]);

      let settled = false;
      const deleting = deleteSource(store.db, doomed).finally(() => {
        settled = true;
      });
      // The delete waits on the row lock the open transaction holds on the source row.
      await waitForLock(doomed);
      expect(settled).toBe(false);
      await worker.query("commit");
      expect(await deleting).toBe(true);
    } finally {
      await worker.end();
    }
    expect(await changeCount(doomed)).toBe(0);
  });
});

/** Until a session waits on a lock (the delete of the source row `id`). */
async function waitForLock(id: string): Promise<void> {
  await waitFor(
    `the delete of source ${id} to wait for a lock`,
    async () => {
      const waiting = await server.query<{ n: number }>(
        "select count(*)::int as n from pg_stat_activity " +
          "where wait_event_type = 'Lock' and query like 'delete from \"sources\"%'",
        [],
        "retrace",
      );
      return (waiting.rows[0]?.n ?? 0) > 0;
    },
    { timeoutMs: 5_000, intervalMs: 25 },
  );
}
