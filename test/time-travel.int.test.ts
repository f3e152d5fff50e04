import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseJson, toJsonText } from "@/lib/api/json";
import { createApiToken } from "@/lib/auth/tokens";
import { tableAsOf } from "@/lib/changes/as-of";
import { connectStore, type Store } from "@/lib/db/client";
import { SECRET, startServers, trackTables, type Servers } from "./support/servers";
import { waitFor } from "./support/wait";
import { startTestWorker } from "./support/worker";
import type { Worker } from "@/worker/worker";

/**
 * Time travel against real servers: a random workload on a source, the true table contents taken at several moments
 * with the source's own snapshot, and GET /api/tables/as-of and /api/records/as-of compared with them exactly; then a
 * baseline taken while the table is written to, compared with the live table.
 */

type Route = (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>;

let servers: Servers;
let store: Store;
let worker: Worker;
let token: string;
let sourceId: string;
let tableRoute: Route;
let recordRoute: Route;
let baselinesRoute: { GET: Route; POST: Route };

/** A seeded generator, so that a failure can be replayed (the seed is printed). */
function random(seed: number) {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
}

const canonical = (text: string) => toJsonText(parseJson(text));

async function get(path: string): Promise<{ status: number; body: string }> {
  const request = new Request(`http://localhost${path}`, { headers: { authorization: `Bearer ${token}` } });
  const route = path.startsWith("/api/tables/") ? tableRoute : recordRoute;
  const response = await route(request, { params: Promise.resolve({}) });
  return { status: response.status, body: await response.text() };
}

type Truth = { at: string; rows: Map<string, string> };

/** The table as the source has it now (one snapshot), keyed as changes.primary_key holds keys, with the time. */
async function capture(table: string, keyColumns: string[]): Promise<Truth> {
  const client = await servers.sourcePool.connect();
  try {
    await client.query("begin isolation level repeatable read");
    const [now] = (
      await client.query<{ at: string }>(
        `select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at`,
      )
    ).rows;
    const keys = keyColumns.map((column) => `${column}::text`).join(", ");
    const rows = await client.query<{ key: string[]; image: string }>(
      `select array[${keys}] as key, row_to_json(t)::text as image from ${table} t`,
    );
    await client.query("commit");
    // Later commits must carry a later commit time than the moment.
    await new Promise((resolve) => setTimeout(resolve, 5));
    return {
      at: now?.at ?? "",
      rows: new Map(
        rows.rows.map((row) => [
          row.key.length === 1 ? (row.key[0] ?? "") : JSON.stringify(row.key),
          canonical(row.image),
        ]),
      ),
    };
  } finally {
    client.release();
  }
}

/** Every page of GET /api/tables/as-of, `limit` rows at a time. */
async function tablePages(table: string, at: string, limit: number): Promise<Map<string, string>> {
  const rows = new Map<string, string>();
  let cursor: string | null = null;
  let pages = 0;
  do {
    const params = new URLSearchParams({ sourceId, table, at, limit: String(limit) });
    if (cursor) params.set("cursor", cursor);
    const response = await get(`/api/tables/as-of?${params}`);
    expect(response.status, response.body).toBe(200);
    const page = parseJson(response.body) as {
      rows: { primaryKey: string; row: unknown }[];
      nextCursor: string | null;
    };
    for (const row of page.rows) {
      expect(rows.has(row.primaryKey), `key ${row.primaryKey} twice`).toBe(false);
      rows.set(row.primaryKey, toJsonText(row.row as never));
    }
    cursor = page.nextCursor;
    pages += 1;
    expect(pages).toBeLessThan(1000);
  } while (cursor);
  return rows;
}

/** Waits until the worker stored a marker committed after everything before it. */
async function caughtUp(marker: number): Promise<void> {
  await servers.sourceQuery("insert into markers values ($1)", [marker]);
  await waitFor(
    `marker ${marker}`,
    async () =>
      (
        await servers.storeQuery("select 1 from changes where \"table\" = 'markers' and primary_key = $1", [
          String(marker),
        ])
      ).length > 0,
    { timeoutMs: 60_000 },
  );
}

beforeAll(async () => {
  servers = await startServers();
  process.env.DATABASE_URL = servers.storeUrl;
  process.env.RETRACE_SECRET = SECRET;
  await servers.sourceQuery(`
    create table items (id int primary key, name text, qty int8, price numeric, doc jsonb, flag boolean);
    create table pairs (a int, b text, v text, primary key (a, b));
    create table markers (id int primary key);
    create table legacy (id int primary key, label text, amount numeric, at timestamptz, doc jsonb);
    insert into legacy select g, 'row ' || g, g * 1.25,
                              '2026-01-01 00:00:00.123456+00'::timestamptz + g * interval '1 s',
                              jsonb_build_object('g', g, 'big', 9007199254740993)
      from generate_series(1, 6000) g;
  `);
  sourceId = await trackTables(servers, {
    tables: ["items", "pairs", "markers", "legacy"],
    publication: "retrace_pub",
    slot: "retrace_time_travel",
  });
  await servers.storeQuery(
    `insert into tracked_tables (source_id, schema, "table") values ($1, 'public', 'items'), ($1, 'public', 'pairs'),
       ($1, 'public', 'markers'), ($1, 'public', 'legacy')`,
    [sourceId],
  );
  store = connectStore(servers.storeUrl, { max: 3 });
  token = (await createApiToken(store.db, "test")).token;
  worker = startTestWorker(servers, { baselineChunkRows: 250 });
  tableRoute = (await import("@/app/api/tables/as-of/route")).GET as Route;
  recordRoute = (await import("@/app/api/records/as-of/route")).GET as Route;
  baselinesRoute = (await import("@/app/api/databases/[id]/baselines/route")) as unknown as typeof baselinesRoute;
});

afterAll(async () => {
  await worker?.stop();
  await store?.pool.end();
  const { getStore } = await import("@/lib/db");
  await getStore()
    .pool.end()
    .catch(() => undefined);
  await servers?.stop();
});

describe("as of a moment, after a random workload", () => {
  const moments: { items: Truth; pairs: Truth }[] = [];
  const seed = Number(process.env.TIME_TRAVEL_SEED ?? Date.now() % 1_000_000);

  beforeAll(async () => {
    console.log(`time travel workload seed ${seed}`);
    const next = random(seed);
    const pick = (n: number) => Math.floor(next() * n);
    const take = async () =>
      moments.push({
        items: await capture("items", ["id"]),
        pairs: await capture("pairs", ["a", "b"]),
      });
    await take(); // before anything
    for (let round = 0; round < 12; round++) {
      for (let txn = 0; txn < 6; txn++) {
        const statements: string[] = [];
        for (let i = 0; i < 1 + pick(4); i++) {
          const id = 1 + pick(30);
          const kind = pick(10);
          if (kind < 4) {
            statements.push(
              `insert into items values (${id}, 'n${pick(1000)}', ${9007199254740993n + BigInt(pick(1000))}, ` +
                `${pick(100000)}.${pick(100)}0, '{"k": ${pick(50)}, "nested": {"a": [1, 2.50]}}', ${pick(2) === 0}) ` +
                `on conflict (id) do update set name = excluded.name, qty = excluded.qty, price = excluded.price`,
            );
          } else if (kind < 7) {
            statements.push(`update items set qty = qty + ${pick(7)}, doc = null where id = ${id}`);
          } else if (kind < 9) {
            statements.push(`delete from items where id = ${id}`);
          } else {
            const b = ["x", "y, z", 'q"'][pick(3)] ?? "x";
            statements.push(
              `insert into pairs values (${pick(5)}, '${b}', 'v${pick(99)}') ` +
                "on conflict (a, b) do update set v = excluded.v",
            );
            statements.push(`delete from pairs where a = ${pick(5)} and b = 'x'`);
          }
        }
        await servers.sourceQuery(`begin; ${statements.join("; ")}; commit;`);
      }
      if (round === 5 || round === 9) await servers.sourceQuery("truncate items");
      if (round === 9) await servers.sourceQuery("insert into items values (1, 'after truncate', 1, 1.10, null, true)");
      await take();
    }
    await caughtUp(1);
  });

  it("GET /api/tables/as-of equals the table's true contents at every moment, page by page", async () => {
    for (const moment of moments) {
      expect(await tablePages("items", moment.items.at, 7)).toEqual(moment.items.rows);
      expect(await tablePages("public.pairs", moment.pairs.at, 3)).toEqual(moment.pairs.rows);
    }
    // The workload did make tables of different sizes, including an empty one after a TRUNCATE.
    expect(new Set(moments.map((m) => m.items.rows.size)).size).toBeGreaterThan(3);
  });

  it("walking the sealed keys gives each table's true contents at every moment too", async () => {
    await waitFor("every change sealed", async () => {
      const [row] = await servers.storeQuery<{ unsealed: number }>(
        `select count(*)::int as unsealed from changes c
          where c.source_id = $1 and not exists (select 1 from change_seals s where s.change_id = c.id)`,
        [sourceId],
      );
      return row?.unsealed === 0;
    });
    expect(moments.length).toBeGreaterThan(10);
    // walkFrom 0: every page walks (lib/changes/as-of-walk.ts), however few the table's changes.
    const walked = async (table: string, at: string, limit: number) => {
      const rows = new Map<string, string>();
      let cursor: string | undefined;
      do {
        const page = await tableAsOf(store.db, { sourceId, table }, at, { limit, cursor }, 0);
        for (const row of page.rows) rows.set(row.primaryKey, canonical(row.row.text));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return rows;
    };
    for (const moment of moments) {
      expect(await walked("items", moment.items.at, 7), moment.items.at).toEqual(moment.items.rows);
      expect(await walked("pairs", moment.pairs.at, 3), moment.pairs.at).toEqual(moment.pairs.rows);
    }
  });

  it("GET /api/records/as-of equals each row's true value (or its absence) at every moment", async () => {
    for (const moment of moments.filter((_, index) => index % 3 === 0 || index === moments.length - 1)) {
      for (let id = 1; id <= 30; id++) {
        const params = new URLSearchParams({
          database: "app",
          table: "items",
          primaryKey: String(id),
          at: moment.items.at,
        });
        const response = await get(`/api/records/as-of?${params}`);
        expect(response.status, response.body).toBe(200);
        const body = parseJson(response.body) as { row: unknown; change: { operation: string } | null };
        const truth = moment.items.rows.get(String(id)) ?? null;
        expect(body.row === null ? null : toJsonText(body.row as never), `id ${id} at ${moment.items.at}`).toEqual(
          truth,
        );
        // The raw text keeps every digit: an int8 beyond 2^53 is there as stored.
        const qty = truth === null ? null : /"qty":(\d+)/.exec(truth)?.[0];
        if (qty) expect(response.body).toContain(qty);
      }
      for (const [key, image] of moment.pairs.rows) {
        const typed = (JSON.parse(key) as string[]).map((part) => `"${part.replace(/"/g, '""')}"`).join(",");
        const params = new URLSearchParams({ sourceId, table: "pairs", primaryKey: `(${typed})`, at: moment.pairs.at });
        const response = await get(`/api/records/as-of?${params}`);
        const body = parseJson(response.body) as { row: unknown };
        expect(toJsonText(body.row as never)).toEqual(image);
      }
    }
  });

  it("a row emptied by a TRUNCATE names the TRUNCATE", async () => {
    const emptied = moments.find((moment, index) => index > 0 && moment.items.rows.size === 0);
    expect(emptied).toBeDefined();
    const params = new URLSearchParams({
      database: "app",
      table: "items",
      primaryKey: "3",
      at: emptied?.items.at ?? "",
    });
    const body = parseJson((await get(`/api/records/as-of?${params}`)).body) as { row: unknown; change: unknown };
    expect(body.row).toBeNull();
    expect((body.change as { operation: string }).operation).toBe("TRUNCATE");
    // After a TRUNCATE every row the table holds came after it: all of them are known, with no baseline.
    const page = await tableAsOf(store.db, { sourceId, table: "items" }, emptied?.items.at ?? "", { limit: 5 });
    expect(page.allRowsKnown).toBe(true);
  });

  it("prefetches for the pages what the API answers, every digit kept", async () => {
    const { prefetch } = await import("@/lib/query/prefetch");
    const { makeQueryClient } = await import("@/lib/query/client");
    const { timeTravelQueries } = await import("@/lib/query/time-travel");
    const at = moments.at(-1)?.items.at ?? "";
    const key = { database: "app", table: "items", primaryKey: "1" };
    const client = makeQueryClient();
    await prefetch.recordAsOf(client, key, at);
    const record = client.getQueryData(timeTravelQueries.record(key, at).queryKey);
    const answered = await get(`/api/records/as-of?${new URLSearchParams({ ...key, at })}`);
    expect(toJsonText(record as never)).toBe(toJsonText(parseJson(answered.body)));

    const ref = { sourceId, table: "public.items" };
    await prefetch.tableAsOf(client, ref, at);
    const table = client.getQueryData(timeTravelQueries.table(ref, at).queryKey);
    const page = await get(`/api/tables/as-of?${new URLSearchParams({ ...ref, at, limit: "50" })}`);
    expect(toJsonText(table?.pages[0] as never)).toBe(toJsonText(parseJson(page.body)));
    expect(table?.pages[0]?.rows.length).toBeGreaterThan(0);
  });

  it("refuses a bad parameter with a 400 that names it, and an unknown database with a 404", async () => {
    const cases: [string, string][] = [
      ["/api/tables/as-of?database=app&table=items", "at"],
      ["/api/tables/as-of?database=app&table=items&at=yesterday", "at"],
      ["/api/tables/as-of?database=app&at=2026-01-01T00:00:00Z", "table"],
      ["/api/tables/as-of?database=app&table=items&at=2026-01-01T00:00:00Z&limit=0", "limit"],
      ["/api/tables/as-of?database=app&table=items&at=2026-01-01T00:00:00Z&cursor=nope!", "cursor"],
      ["/api/tables/as-of?table=items&at=2026-01-01T00:00:00Z", "database"],
      ["/api/records/as-of?database=app&table=items&at=2026-01-01T00:00:00Z", "primaryKey"],
      ["/api/records/as-of?sourceId=42&table=items&primaryKey=1&at=2026-01-01T00:00:00Z", "sourceId"],
    ];
    for (const [path, parameter] of cases) {
      const response = await get(path);
      expect(response.status, path).toBe(400);
      expect(response.body, path).toContain(`"path":"${parameter}"`);
    }
    expect((await get("/api/tables/as-of?database=nope&table=items&at=2026-01-01T00:00:00Z")).status).toBe(404);
    expect((await get("/api/tables/as-of?database=app&table=nope&at=2026-01-01T00:00:00Z")).status).toBe(404);
  });
});

describe("a baseline taken while the table is written to", () => {
  it("copies the rows in chunks, and as of now the table reads exactly as the live table", async () => {
    let writing = true;
    let writes = 0;
    const next = random(7);
    const writer = (async () => {
      while (writing) {
        const id = 1 + Math.floor(next() * 6500);
        const kind = Math.floor(next() * 3);
        if (kind === 0)
          await servers.sourceQuery("update legacy set amount = amount + 1.01, doc = null where id = $1", [id]);
        else if (kind === 1) await servers.sourceQuery("delete from legacy where id = $1", [id]);
        else {
          await servers.sourceQuery(
            "insert into legacy values ($1, 'new', 0.10, now(), '{}') on conflict (id) do update set label = 'again'",
            [id],
          );
        }
        writes += 1;
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 300));
    // No baseline yet: the rows unchanged since tracking began are unknown, and the page says so.
    const unbaselined = await tableAsOf(store.db, { sourceId, table: "legacy" }, new Date().toISOString(), {
      limit: 5,
    });
    expect(unbaselined.allRowsKnown).toBe(false);
    const post = new Request(`http://localhost/api/databases/${sourceId}/baselines`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ table: "legacy" }),
    });
    const created = await baselinesRoute.POST(post, { params: Promise.resolve({ id: sourceId }) });
    expect(created.status).toBe(202);
    // Retrace's own audit log says who started it, of which table.
    const audited = await servers.storeQuery<{ details: { table: string } }>(
      "select details from audit_events where action = 'baseline.start' and target_id = $1",
      [sourceId],
    );
    expect(audited.map((row) => row.details.table)).toEqual(["public.legacy"]);
    // A second request while it runs is refused.
    const again = await baselinesRoute.POST(
      new Request(post.url, { method: "POST", headers: post.headers, body: JSON.stringify({ table: "legacy" }) }),
      { params: Promise.resolve({ id: sourceId }) },
    );
    expect(again.status).toBe(409);

    type Progress = { status: string; rowsCopied: number; rowsEstimated: number | null; error: string | null };
    const progress: Progress[] = [];
    const done = await waitFor(
      "the baseline",
      async () => {
        const response = await baselinesRoute.GET(
          new Request(`http://localhost/api/databases/${sourceId}/baselines`, {
            headers: { authorization: `Bearer ${token}` },
          }),
          { params: Promise.resolve({ id: sourceId }) },
        );
        const [baseline] = ((await response.json()) as { baselines: Progress[] }).baselines;
        if (baseline) progress.push(baseline);
        return baseline && (baseline.status === "done" || baseline.status === "failed") && baseline;
      },
      { timeoutMs: 90_000, intervalMs: 20 },
    );
    expect(done.error).toBeNull();
    expect(done.status).toBe("done");
    const writesDuringBaseline = writes;
    await new Promise((resolve) => setTimeout(resolve, 300));
    writing = false;
    await writer;
    expect(writesDuringBaseline).toBeGreaterThan(20);
    // Progress was seen part of the way (chunks of 250 rows).
    expect(progress.some((p) => p.status === "running" && p.rowsCopied > 0 && p.rowsCopied < done.rowsCopied)).toBe(
      true,
    );
    expect(done.rowsEstimated).toBeGreaterThan(0);

    await caughtUp(2);
    const live = await capture("legacy", ["id"]);
    const asOf = await tablePages("legacy", live.at, 500);
    // Values read alike whatever their form: the live side prints timestamps as JSON does.
    const comparable = (rows: Map<string, string>) =>
      new Map([...rows].map(([key, image]) => [key, canonical(image.replace(/"at":"[^"]*"/, '"at":0'))]));
    expect(comparable(asOf)).toEqual(comparable(live.rows));
    expect(asOf.size).toBeGreaterThan(5000);
    const baselined = await tableAsOf(store.db, { sourceId, table: "legacy" }, live.at, { limit: 5 });
    expect(baselined.allRowsKnown).toBe(true);

    // Exactly as a change would show it: a row's first change after the baseline has the baseline's image as its
    // before image, to the byte (timestamps, numerics, jsonb and the int beyond 2^53 included).
    const same = await servers.storeQuery<{ n: number; differ: number }>(
      `select count(*)::int as n, count(*) filter (where b.image::text <> c.before::text)::int as differ
         from baseline_rows b
         join baselines bl on bl.id = b.baseline_id
         join lateral (select before from changes c
                        where c.primary_key = b.primary_key and c."table" = 'legacy'
                          and c.commit_lsn > bl.consistent_lsn
                          and c.operation in ('UPDATE', 'DELETE')
                        order by c.id limit 1) c on true
        where not exists (select 1 from changes x where x.primary_key = b.primary_key and x."table" = 'legacy'
                            and x.commit_lsn > bl.consistent_lsn and x.operation = 'CREATE'
                            and x.id < (select min(id) from changes y where y.primary_key = b.primary_key
                                          and y."table" = 'legacy' and y.commit_lsn > bl.consistent_lsn))`,
    );
    expect(same[0]?.n).toBeGreaterThan(10);
    expect(same[0]?.differ).toBe(0);
  });
});

describe("a baseline of a table with a composite key", () => {
  it("reads like the live table, keys with commas and quotes included, and refuses an untracked table", async () => {
    await servers.sourceQuery(`insert into pairs values (7, 'a, b', 'x'), (7, '"q"', 'y'), (8, '', 'z')
                               on conflict (a, b) do nothing`);
    const { requestBaseline, listBaselines } = await import("@/lib/baselines/queries");
    await expect(requestBaseline(store.db, sourceId, "nope", null)).rejects.toThrow(/not a tracked table/);
    const baseline = await requestBaseline(store.db, sourceId, "public.pairs", "test");
    await waitFor(
      "the pairs baseline",
      async () => (await listBaselines(store.db, sourceId)).find((b) => b.id === baseline.id && b.status === "done"),
      { timeoutMs: 60_000 },
    );
    await caughtUp(3);
    const live = await capture("pairs", ["a", "b"]);
    expect(live.rows.size).toBeGreaterThan(2);
    expect(await tablePages("pairs", live.at, 2)).toEqual(live.rows);
    // Nothing was written meanwhile: the baseline's rows are the table, keyed as the changes key it.
    const copied = await servers.storeQuery<{ primary_key: string; image: string }>(
      "select primary_key, image::text as image from baseline_rows where baseline_id = $1",
      [baseline.id],
    );
    expect(new Map(copied.map((row) => [row.primary_key, canonical(row.image)]))).toEqual(live.rows);
  });
});

describe("a baseline whose worker died", () => {
  it("is taken over once its heartbeat is old, and starts over from a new snapshot", async () => {
    // The stale baseline and a row its dead worker copied, in one statement: the worker may claim it at once.
    const [stale] = await servers.storeQuery<{ id: string }>(
      `with stale as (
         insert into baselines (source_id, schema, "table", status, started_at, heartbeat_at, rows_copied)
         values ($1, 'public', 'items', 'running', now() - interval '5 minutes', now() - interval '5 minutes', 999)
         returning id
       ), copied as (
         insert into baseline_rows (baseline_id, primary_key, image) select id, 'left over', '{}' from stale
       )
       select id::text as id from stale`,
      [sourceId],
    );
    const id = stale?.id ?? "";
    const done = await waitFor(
      "the stale baseline",
      async () => {
        const [row] = await servers.storeQuery<{ status: string; rows_copied: string }>(
          "select status::text as status, rows_copied::text from baselines where id = $1",
          [id],
        );
        return row?.status === "done" && row;
      },
      { timeoutMs: 60_000 },
    );
    const [items] = await servers.sourceQuery<{ n: string }>("select count(*)::text as n from items");
    expect(done.rows_copied).toBe(items?.n);
    const leftOver = await servers.storeQuery(
      "select 1 from baseline_rows where baseline_id = $1 and primary_key = 'left over'",
      [id],
    );
    expect(leftOver).toEqual([]);
  });
});
