import { dehydrate, hydrate, type DehydratedState, type QueryClient } from "@tanstack/react-query";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { LosslessNumber, toJsonText } from "@/lib/api/json";
import { summarizeStoredRows } from "@/lib/changes/segments";
import { createApiToken } from "@/lib/auth/tokens";
import { connectStore, type Store } from "@/lib/db/client";
import { changeQueries } from "@/lib/query/changes";
import { makeQueryClient } from "@/lib/query/client";
import { databaseQueries } from "@/lib/query/databases";
import { startWebStore, type TestServer } from "./support/postgres";

/**
 * What a server component prefetches (lib/query/prefetch.ts) must reach the browser as exactly what the
 * browser's own fetch of the API would have produced: same shape, same digits. The browser side here is the
 * real query options and apiFetch, with fetch answered in-process by the real route handlers.
 */

type Route = (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>;

let web: Awaited<ReturnType<typeof startWebStore>> | undefined;
let server: TestServer;
let store: Store;
let token: string;
let prefetch: typeof import("@/lib/query/prefetch").prefetch;
let sourceId: string;
let changeId: string;

const bigInt = "9223372036854775807";
const bigNumeric = "1234567890123456789012345678901234567890";

const noParams = { params: Promise.resolve({}) };

/** The API, answering the browser's fetch from the route handlers, as Next would route it. */
async function api(path: string, init?: RequestInit): Promise<Response> {
  const url = new URL(path, "http://localhost");
  const request = new Request(url, { ...init, headers: { ...init?.headers, authorization: `Bearer ${token}` } });
  if (url.pathname === "/api/databases/role-sql") {
    return ((await import("@/app/api/databases/role-sql/route")).GET as Route)(request, noParams);
  }
  const one = /^\/api\/(changes|databases)\/([^/]+)$/.exec(url.pathname);
  const [route, params]: [Route, Record<string, string>] = one
    ? [
        (one[1] === "changes"
          ? (await import("@/app/api/changes/[id]/route")).GET
          : (await import("@/app/api/databases/[id]/route")).GET) as Route,
        { id: decodeURIComponent(one[2] ?? "") },
      ]
    : [
        (url.pathname === "/api/changes"
          ? (await import("@/app/api/changes/route")).GET
          : (await import("@/app/api/databases/route")).GET) as Route,
        {},
      ];
  return route(request, { params: Promise.resolve(params) });
}

/** The server render's QueryClient, dehydrated, carried as the RSC payload would (plain data), hydrated. */
function inBrowser(serverClient: QueryClient): QueryClient {
  const state = JSON.parse(JSON.stringify(dehydrate(serverClient))) as DehydratedState;
  const browser = makeQueryClient();
  hydrate(browser, state);
  return browser;
}

beforeAll(async () => {
  web = await startWebStore();
  server = web.server;
  store = connectStore(web.url, { max: 2 });
  token = (await createApiToken(store.db, "prefetch-test")).token;
  prefetch = (await import("@/lib/query/prefetch")).prefetch;
  const source = await server.query<{ id: string }>(
    `insert into sources (name, host, port, database, username, password_encrypted, environment, slot_name,
                          publication_name, status, lag_bytes, lag_seconds, lag_measured_at, last_error)
     values ('shop', 'db.example.com', 6543, 'shop', 'retrace', 'v1:dummy', 'production', 'retrace_shop',
             'retrace_pub', 'streaming', 123456789, 0.123456789, '2024-05-06 07:08:09.123456+00', null)
     returning id::text as id`,
    [],
    "retrace",
  );
  sourceId = source.rows[0]?.id ?? "";
  await server.query(
    `insert into tracked_tables (source_id, schema, "table") values ($1, 'public', 'ledger')`,
    [sourceId],
    "retrace",
  );
  const change = await server.query<{ id: string }>(
    `insert into changes (source_id, environment, database, schema, "table", primary_key, operation, before, after,
                          changed_fields, unavailable_fields, context, transaction_id, commit_lsn, seq, committed_at,
                          queued_at)
     values ($1, 'production', 'shop', 'public', 'ledger', $2, 'UPDATE', $3::json, $4::json, '{amount}', '{doc}',
             '{"requestId": 18446744073709551617}', 4294967296123, '1/ABCDEF', 0,
             '2024-05-06 07:08:09.123456+00', now())
     returning id::text as id`,
    [
      sourceId,
      bigInt,
      `{"id": ${bigInt}, "amount": 24.50, "note": "null"}`,
      `{"id": ${bigInt}, "amount": ${bigNumeric}, "note": null}`,
    ],
    "retrace",
  );
  changeId = change.rows[0]?.id ?? "";
  // What the worker writes with every store commit (lib/changes/segments.ts), the list reads it.
  await summarizeStoredRows(store.pool, changeId, changeId);
  vi.stubGlobal("fetch", api);
});

afterAll(async () => {
  vi.unstubAllGlobals();
  await store?.pool.end();
  await web?.close();
});

describe("prefetched data in the browser", () => {
  it("is the change list the browser's fetch gets, every digit kept", async () => {
    for (const filters of [{}, { table: "ledger", operation: "UPDATE" }]) {
      const serverClient = makeQueryClient();
      await prefetch.changes(serverClient, filters);
      const hydrated = inBrowser(serverClient).getQueryData(changeQueries.list(filters).queryKey);
      const fetched = await makeQueryClient().fetchInfiniteQuery(changeQueries.list(filters));
      expect(hydrated).toStrictEqual(fetched);
      const [change] = hydrated?.pages[0]?.changes ?? [];
      expect(change?.after?.amount).toStrictEqual(new LosslessNumber(bigNumeric));
      expect(change?.before?.amount).toStrictEqual(new LosslessNumber("24.50"));
      expect(toJsonText(change?.context ?? {})).toBe('{"requestId":18446744073709551617}');
      expect(change).toMatchObject({ seq: 0, unavailableFields: ["doc"], primaryKey: bigInt });
    }
  });

  it("is the change the browser's fetch gets", async () => {
    const serverClient = makeQueryClient();
    await prefetch.change(serverClient, changeId);
    const hydrated = inBrowser(serverClient).getQueryData(changeQueries.detail(changeId).queryKey);
    expect(hydrated).toStrictEqual(await makeQueryClient().fetchQuery(changeQueries.detail(changeId)));
    expect(hydrated?.change.after?.id).toStrictEqual(new LosslessNumber(bigInt));
  });

  it("is the databases list and a database the browser's fetch gets, dates as the API writes them", async () => {
    const listClient = makeQueryClient();
    // As the databases page prefetches it: waiting for the slots' readings (which the fetch then reuses).
    await prefetch.databases(listClient, { slots: "wait" });
    const list = inBrowser(listClient).getQueryData(databaseQueries.list().queryKey);
    expect(list).toStrictEqual(await makeQueryClient().fetchQuery(databaseQueries.list()));
    expect(list?.databases[0]).toMatchObject({
      id: sourceId,
      lagBytes: 123456789,
      lagSeconds: 0.123456789,
      lagMeasuredAt: "2024-05-06T07:08:09.123Z",
      trackedTableCount: 1,
    });

    const detailClient = makeQueryClient();
    await prefetch.database(detailClient, sourceId);
    const detail = inBrowser(detailClient).getQueryData(databaseQueries.detail(sourceId).queryKey);
    expect(detail).toStrictEqual(await makeQueryClient().fetchQuery(databaseQueries.detail(sourceId)));
    expect(detail?.tables).toMatchObject([{ schema: "public", table: "ledger" }]);
  });

  it("is the role SQL the connect form fetches as the database name is typed", async () => {
    for (const database of ["", 'We"ird db']) {
      const serverClient = makeQueryClient();
      await prefetch.roleSql(serverClient, database);
      const hydrated = inBrowser(serverClient).getQueryData(databaseQueries.roleSql(database).queryKey);
      expect(hydrated).toStrictEqual(await makeQueryClient().fetchQuery(databaseQueries.roleSql(database)));
    }
    const typed = await makeQueryClient().fetchQuery(databaseQueries.roleSql('We"ird db'));
    expect(typed.roleSql).toContain('GRANT CONNECT, CREATE ON DATABASE "We""ird db" TO retrace;');
    const placeholder = await makeQueryClient().fetchQuery(databaseQueries.roleSql(""));
    expect(placeholder.roleSql).toContain('ON DATABASE "your_database"');
    const tooLong = await api(`/api/databases/role-sql?database=${"x".repeat(64)}`);
    expect(tooLong.status).toBe(400);
  });

  it("is left to the browser when the server cannot read it", async () => {
    const serverClient = makeQueryClient();
    await prefetch.change(serverClient, "987654321");
    await prefetch.changes(serverClient, { operation: "INSERT" });
    await prefetch.database(serverClient, "not-a-uuid");
    expect(dehydrate(serverClient).queries).toEqual([]);
  });
});
