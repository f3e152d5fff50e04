import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiToken } from "@/lib/auth/tokens";
import { recordHistory } from "@/lib/changes/history";
import type { RecordKey } from "@/lib/changes/history-key";
import { parseHistoryParams } from "@/lib/changes/params";
import { summarizeStoredRows } from "@/lib/changes/segments";
import { transactionChanges } from "@/lib/changes/transaction";
import { connectStore, type Store } from "@/lib/db/client";
import { startWebStore, type TestServer } from "./support/postgres";

/** A record's history and a transaction's pages, against a real store (GET /api/records/history and
 * GET /api/changes/:id/transaction). */

type Route = (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>;

let web: Awaited<ReturnType<typeof startWebStore>> | undefined;
let server: TestServer;
let store: Store;
let token: string;
let historyRoute: Route;
let transactionRoute: Route;

const SOURCE_A = "00000000-0000-4000-8000-00000000000a";
const SOURCE_B = "00000000-0000-4000-8000-00000000000b";
const SOURCE_C = "00000000-0000-4000-8000-00000000000c";

let lsn = 0x1000;
type Insert = {
  source?: string;
  database?: string;
  schema?: string;
  table?: string;
  primaryKey?: string | null;
  operation?: "CREATE" | "UPDATE" | "DELETE" | "TRUNCATE";
  after?: string | null;
  commitLsn?: string;
  seq?: number;
};

async function insertChange(values: Insert = {}): Promise<string> {
  lsn += 1;
  const result = await server.query<{ id: string }>(
    `insert into changes (source_id, environment, database, schema, "table", primary_key, operation, after,
       transaction_id, commit_lsn, seq, committed_at, queued_at)
     values ($1, 'production', $2, $3, $4, $5, $6, $7::json, 1, $8::pg_lsn, $9, now(), now())
     returning id::text as id`,
    [
      values.source ?? SOURCE_A,
      values.database ?? "shop",
      values.schema ?? "public",
      values.table ?? "items",
      values.primaryKey === undefined ? "1" : values.primaryKey,
      values.operation ?? "UPDATE",
      values.after === undefined ? '{"id": 1}' : values.after,
      values.commitLsn ?? `0/${lsn.toString(16).toUpperCase()}`,
      values.seq ?? 0,
    ],
    "retrace",
  );
  const id = result.rows[0]?.id;
  if (!id) throw new Error("insert returned no id");
  return id;
}

const get = (path: string) => new Request(`http://localhost${path}`, { headers: { authorization: `Bearer ${token}` } });
const noParams = { params: Promise.resolve({}) };

beforeAll(async () => {
  web = await startWebStore();
  server = web.server;
  store = connectStore(web.url, { max: 4 });
  token = (await createApiToken(store.db, "test")).token;
  // The sources the changes name: lists and histories look their databases up.
  for (const [id, database] of [
    [SOURCE_A, "shop"],
    [SOURCE_B, "shop"],
    [SOURCE_C, "crm"],
  ]) {
    await server.query(
      `insert into sources (id, name, host, port, database, username, password_encrypted, environment, slot_name,
         publication_name)
       values ($1::uuid, $1::text, 'localhost', 5432, $2, 'retrace', 'v1:dummy', 'production',
         'retrace_' || md5($1::text), 'retrace_pub')`,
      [id, database],
      "retrace",
    );
  }
  historyRoute = (await import("@/app/api/records/history/route")).GET as Route;
  transactionRoute = (await import("@/app/api/changes/[id]/transaction/route")).GET as Route;
});

afterAll(async () => {
  await store?.pool.end();
  await web?.close();
});

describe("recordHistory", () => {
  const row: Record<string, string> = {};

  beforeAll(async () => {
    await server.query("truncate changes", [], "retrace");
    row.create = await insertChange({ operation: "CREATE" });
    // The same key in another table, another schema, another database, another source: other rows.
    await insertChange({ table: "orders" });
    await insertChange({ schema: "archive" });
    await insertChange({ source: SOURCE_C, database: "crm" });
    await insertChange({ source: SOURCE_B });
    await insertChange({ primaryKey: "10" });
    await insertChange({ operation: "TRUNCATE", primaryKey: null, after: null });
    row.update1 = await insertChange({ operation: "UPDATE" });
    row.update2 = await insertChange({ operation: "UPDATE" });
    row.delete = await insertChange({ operation: "DELETE", after: null });
    row.again = await insertChange({ operation: "CREATE" });
    // What the worker writes with every store commit (lib/changes/segments.ts): history finds tables through it.
    await summarizeStoredRows(store.pool, row.create ?? "", row.again);
  });

  const key: RecordKey = { sourceId: SOURCE_A, table: "public.items", primaryKey: "1" };

  it("lists every change of the one row, newest first, and nothing of another row", async () => {
    const page = await recordHistory(store.db, key, { limit: 50 });
    expect(page.changes.map((c) => c.id)).toEqual([row.again, row.delete, row.update2, row.update1, row.create]);
    expect(page.nextCursor).toBeNull();
    for (const change of page.changes) {
      expect(change).toMatchObject({ sourceId: SOURCE_A, schema: "public", table: "items", primaryKey: "1" });
    }
  });

  it("pages by keyset, each page continuing where the last ended", async () => {
    const first = await recordHistory(store.db, key, { limit: 2 });
    expect(first.changes.map((c) => c.id)).toEqual([row.again, row.delete]);
    expect(first.nextCursor).not.toBeNull();
    const second = await recordHistory(store.db, key, { limit: 2, cursor: first.nextCursor ?? "" });
    expect(second.changes.map((c) => c.id)).toEqual([row.update2, row.update1]);
    const third = await recordHistory(store.db, key, { limit: 2, cursor: second.nextCursor ?? "" });
    expect(third.changes.map((c) => c.id)).toEqual([row.create]);
    expect(third.nextCursor).toBeNull();
  });

  it("finds the row by database name, and by a bare table name", async () => {
    const byDatabase = await recordHistory(
      store.db,
      { database: "shop", table: "items", primaryKey: "1" },
      { limit: 50 },
    );
    // Two sources hold a database named shop; "items" is public.items and archive.items.
    expect(byDatabase.changes).toHaveLength(7);
    const one = await recordHistory(
      store.db,
      { database: "shop", sourceId: SOURCE_A, table: "public.items", primaryKey: "1" },
      { limit: 50 },
    );
    expect(one.changes).toHaveLength(5);
  });

  it("is GET /api/records/history, 400 naming a bad parameter", async () => {
    const query = new URLSearchParams({ sourceId: SOURCE_A, table: "public.items", primaryKey: "1", limit: "3" });
    const response = await historyRoute(get(`/api/records/history?${query}`), noParams);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { changes: { id: string }[]; nextCursor: string | null };
    expect(body.changes.map((c) => c.id)).toEqual([row.again, row.delete, row.update2]);
    const next = await historyRoute(
      get(`/api/records/history?${query}&cursor=${encodeURIComponent(body.nextCursor ?? "")}`),
      noParams,
    );
    expect(((await next.json()) as { changes: { id: string }[] }).changes.map((c) => c.id)).toEqual([
      row.update1,
      row.create,
    ]);

    for (const [params, named] of [
      ["database=shop&primaryKey=1", "table"],
      ["database=shop&table=items", "primaryKey"],
      ["database=shop&table=items&primaryKey=1&sourceId=nope", "sourceId"],
      ["database=shop&table=items&primaryKey=1&limit=0", "limit"],
      ["database=shop&table=items&primaryKey=1&cursor=bogus", "cursor"],
    ] as const) {
      const bad = await historyRoute(get(`/api/records/history?${params}`), noParams);
      expect(bad.status, params).toBe(400);
      expect(((await bad.json()) as { error: { message: string } }).error.message, params).toContain(named);
    }
    const anonymous = await historyRoute(new Request("http://localhost/api/records/history"), noParams);
    expect(anonymous.status).toBe(401);
  });

  it("keeps a composite key as stored", () => {
    const { record: parsed } = parseHistoryParams(
      new URLSearchParams({ database: "shop", table: "public.lines", primaryKey: '["31", "1"]' }),
    );
    expect(parsed).toEqual({ database: "shop", table: "public.lines", primaryKey: '["31", "1"]' });
  });
});

describe("transactionChanges", () => {
  const ids: string[] = [];
  const TX = "2/ABC000";

  beforeAll(async () => {
    await server.query("truncate changes", [], "retrace");
    // Inserted out of seq order: the pages follow seq, not insertion.
    for (const seq of [3, 0, 4, 1, 2]) ids[seq] = await insertChange({ commitLsn: TX, seq, primaryKey: String(seq) });
    // The same LSN at another source, and the next transaction: not part of it.
    await insertChange({ source: SOURCE_B, commitLsn: TX, seq: 5 });
    await insertChange({ commitLsn: "2/ABC001", seq: 5 });
  });

  it("pages a transaction in commit order, by keyset on seq", async () => {
    const anyMember = ids[2] ?? "";
    const first = await transactionChanges(store.db, anyMember, { limit: 2 });
    expect(first?.changes.map((c) => c.seq)).toEqual([0, 1]);
    expect(first?.nextCursor).toBe("1");
    const second = await transactionChanges(store.db, anyMember, { limit: 2, afterSeq: 1 });
    expect(second?.changes.map((c) => c.id)).toEqual([ids[2], ids[3]]);
    const last = await transactionChanges(store.db, anyMember, { limit: 2, afterSeq: 3 });
    expect(last).toEqual({ changes: [expect.objectContaining({ id: ids[4] })], nextCursor: null });
    expect(await transactionChanges(store.db, "987654321", { limit: 2 })).toBeNull();
  });

  it("is GET /api/changes/:id/transaction, 404 for an unknown change, 400 for a bad cursor", async () => {
    const id = ids[0] ?? "";
    const params = { params: Promise.resolve({ id }) };
    const response = await transactionRoute(get(`/api/changes/${id}/transaction?limit=3&cursor=0`), params);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { changes: { seq: number }[]; nextCursor: string | null };
    expect(body.changes.map((c) => c.seq)).toEqual([1, 2, 3]);
    expect(body.nextCursor).toBe("3");

    const missing = await transactionRoute(get("/api/changes/987654321/transaction"), {
      params: Promise.resolve({ id: "987654321" }),
    });
    expect(missing.status).toBe(404);
    for (const cursor of ["-1", "x", "99999999999", "01"]) {
      const bad = await transactionRoute(get(`/api/changes/${id}/transaction?cursor=${cursor}`), params);
      expect(bad.status, cursor).toBe(400);
    }
  });
});
