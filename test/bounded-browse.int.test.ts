/**
 * The context filter and the activity chart read the change summary's context entries and rollups
 * (lib/db/schema/change-summaries.ts) so that their cost does not grow with the trail. Here they must answer exactly
 * what the old paths did (test/support/browse-reference.ts): on changes captured by the real worker from three
 * sources committing interleaved (their ids mixed), with contexts set, replaced and cleared inside transactions,
 * over several store commits and id blocks; and on changes written by hand over three days, for ranges whose edges
 * fall inside an hour.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { changeActivity } from "@/lib/changes/activity";
import { parseIsoTime } from "@/lib/changes/time";
import { listChanges, type ChangeFilters } from "@/lib/changes/queries";
import { summarizeStoredRows } from "@/lib/changes/segments";
import { connectStore, type Store } from "@/lib/db/client";
import { changesOutsideContexts, referenceBuckets, referenceIds, rollupsOffSegments } from "./support/browse-reference";
import { connectThroughRetrace, startServers, type Servers } from "./support/servers";
import { waitFor } from "./support/wait";
import { startTestWorker } from "./support/worker";
import type { Worker } from "../worker/worker";

const DATABASES = [
  { database: "app", environment: "production" },
  { database: "app2", environment: "staging" },
  { database: "app3", environment: "test" },
] as const;
const HAND_SOURCE = "00000000-0000-4000-8000-0000000000aa";

let servers: Servers;
let store: Store;
let worker: Worker | undefined;
const pools: pg.Pool[] = [];
let expected = 0;

/** One source transaction; each statement may be preceded by a context message (`null`: none). */
async function transaction(i: number, steps: Array<[context: string | null, statement: string]>): Promise<void> {
  const client = await (pools[i] as pg.Pool).connect();
  try {
    await client.query("begin");
    for (const [context, statement] of steps) {
      if (context !== null) await client.query("select pg_logical_emit_message(true, '_retrace', $1)", [context]);
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
    const [row] = await servers.storeQuery<{ n: number }>(
      "select count(*)::int as n from changes where source_id <> $1",
      [HAND_SOURCE],
    );
    return row?.n === expected;
  });
}

/** An API time as the parameters hand it on (six fraction digits). */
const iso = (time: string) => parseIsoTime(time) ?? "";

/** Every id the list shows, page by page. */
async function listedIds(filters: ChangeFilters, limit: number): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 2000; pages++) {
    const page = await listChanges(store.db, filters, { limit, cursor });
    ids.push(...page.changes.map((change) => change.id));
    if (page.nextCursor === null) return ids;
    cursor = page.nextCursor;
  }
  throw new Error("too many pages");
}

beforeAll(async () => {
  servers = await startServers();
  for (const { database } of DATABASES) {
    if (database !== "app") await servers.source.createDatabase(database);
    const pool = new pg.Pool({ connectionString: servers.source.url(database), max: 3 });
    pool.on("error", () => undefined);
    pools.push(pool);
    await pool.query(`create table items (id int primary key, name text, price int);
                      create table events (id int primary key, kind text);`);
  }
  for (const { database, environment } of DATABASES) {
    await connectThroughRetrace(servers, { database, environment, tables: ["public.items", "public.events"] });
  }
  store = connectStore(servers.storeUrl, { max: 2 });
  worker = startTestWorker(servers);

  // Rounds of transactions on the three sources at once (their ids interleave in the store), contexts that change
  // within a transaction (set, replaced, cleared by `{}`), and a jump to a new id block between rounds.
  let key = 0;
  for (let round = 0; round < 6; round++) {
    await Promise.all(
      DATABASES.map(async (_, i) => {
        for (let t = 0; t < 4; t++) {
          const user = (round + t + i) % 3 === 0 ? "42" : `"${(round * 7 + t) % 5}"`;
          const rows = (n: number) => Array.from({ length: n }, () => `(${++key}, 'n', ${key % 10})`).join(", ");
          await transaction(i, [
            [`{"user_id":${user},"round":${round}}`, `insert into items values ${rows(3)}`],
            [null, `insert into events values (${key}, 'created')`],
            [
              t % 2 === 0 ? `{"user_id":7,"job":"sync"}` : null,
              `update items set price = price + 1 where id > ${key - 3}`,
            ],
            [t === 3 ? "{}" : null, `delete from items where id = ${key - 1}`],
          ]);
          if (t === 1) await transaction(i, [[null, `insert into events values (${-key}, 'no context')`]]);
        }
      }),
    );
    await stored();
    if (round % 2 === 1) await servers.storeQuery("select setval('changes_id_seq', nextval('changes_id_seq') + 20000)");
  }

  // By hand, a source of its own over three days: a change every 7 minutes, some with a context.
  await servers.storeQuery(
    `insert into sources (id, name, host, port, database, username, password_encrypted, environment, slot_name,
                          publication_name)
     values ($1, 'hand', 'localhost', 5432, 'hand', 'retrace', 'v1:dummy', 'production', 'hand', 'hand_pub')`,
    [HAND_SOURCE],
  );
  await servers.storeQuery(
    `insert into changes (source_id, environment, database, schema, "table", primary_key, operation, before, after,
                          changed_fields, context, transaction_id, commit_lsn, seq, committed_at, queued_at)
     select $1::uuid, 'production', 'hand', 'public', case when g % 3 = 0 then 'events' else 'items' end, g::text,
            (array['CREATE', 'UPDATE', 'DELETE', 'UPDATE'])[1 + g % 4]::operation, '{}', '{}',
            case when g % 4 in (1, 3) then array[case when g % 8 < 4 then 'price' else 'name' end] end,
            case when g % 5 = 0 then jsonb_build_object('user_id', 42, 'hand', true) end,
            g, ('0/' || to_hex(g * 16))::pg_lsn, 0,
            timestamptz '2026-11-02 00:00:00+00' + g * interval '7 minutes' + interval '13.5 seconds', now()
       from generate_series(1, 600) g`,
    [HAND_SOURCE],
  );
  const [range] = await servers.storeQuery<{ lo: string; hi: string }>(
    "select min(id)::text as lo, max(id)::text as hi from changes where source_id = $1",
    [HAND_SOURCE],
  );
  await summarizeStoredRows(store.pool, range?.lo ?? "0", range?.hi ?? "0");
}, 240_000);

afterAll(async () => {
  await worker?.stop();
  await Promise.allSettled(pools.map((pool) => pool.end()));
  await store?.pool.end();
  await servers?.stop();
});

describe("the summary the worker writes", () => {
  it("keeps the rollups the sums of the segments, and every change with a context inside an entry of it", async () => {
    const query = (text: string) => servers.storeQuery(text);
    expect(await rollupsOffSegments(query)).toEqual([]);
    expect(await changesOutsideContexts(query)).toEqual([]);
  });

  it("counts each context's changes exactly, within ranges no wider than their own store commit", async () => {
    const rows = await servers.storeQuery<{ context: string; n: number; counted: number }>(
      `select x.context::text, sum(x.n)::int as n,
              (select count(*)::int from changes c where c.context = x.context and c.source_id = x.source_id) as counted
         from change_contexts x group by x.source_id, x.context`,
    );
    expect(rows.length).toBeGreaterThan(10);
    for (const row of rows) expect(row.n, row.context).toBe(row.counted);
    // The worker's bounds are exact when no other source draws ids in between: never wider than the ids between
    // the first and last change of the context in the same store commits, i.e. no wider than the whole trail part.
    const [wide] = await servers.storeQuery<{ n: number }>(
      `select count(*)::int as n from change_contexts x
        where x.min_id > (select min(id) from changes c where c.context = x.context and c.source_id = x.source_id
                            and c.id between x.min_id and x.max_id)
           or x.max_id < (select max(id) from changes c where c.context = x.context and c.source_id = x.source_id
                            and c.id between x.min_id and x.max_id)`,
    );
    expect(wide?.n).toBe(0);
  });
});

describe("the context filter reads the context entries", () => {
  const cases: ChangeFilters[] = [
    { context: '{"user_id":42}' },
    { context: '{"user_id":"3"}' },
    { context: '{"user_id":7,"job":"sync"}' },
    { context: '{"round":3}' },
    { context: '{"user_id":42,"round":2}' },
    { context: '{"user_id":42}', table: "items", operation: ["CREATE", "DELETE"] },
    { context: '{"user_id":42}', environment: "staging" },
    { context: '{"user_id":42}', database: "app3", table: "events" },
    { context: '{"user_id":7}', field: "price" },
    { context: '{"user_id":42}', sourceId: HAND_SOURCE },
    { context: '{"hand":true}', from: iso("2026-11-03T10:17:00Z"), to: iso("2026-11-04T02:00:00.000001Z") },
    { context: '{"user_id":42}', from: iso("2026-11-02T05:00:00Z") },
    { context: '{"user_id":"nobody"}' },
    { context: '{"user_id":42}', primaryKey: "40" },
  ];
  it.each(cases)("answers what the old path did, page by page: %o", async (filters) => {
    const reference = await referenceIds(store.db, filters);
    for (const limit of [1, 4, 50]) expect(await listedIds(filters, limit)).toEqual(reference);
  });

  it("finds something for most of those cases (the comparison is not between two empty lists)", async () => {
    const found = await Promise.all(cases.slice(0, 11).map((filters) => referenceIds(store.db, filters)));
    expect(found.map((ids) => ids.length > 0)).toEqual(cases.slice(0, 11).map(() => true));
  });
});

describe("the activity chart reads the rollups", () => {
  const ranges: Array<[from: string | undefined, to: string | undefined]> = [
    ["2026-11-02T00:00:00Z", "2026-11-05T00:00:00Z"],
    // Edges inside an hour, a minute and a microsecond.
    ["2026-11-02T03:17:00Z", "2026-11-04T21:43:00Z"],
    ["2026-11-02T03:17:29.5Z", "2026-11-03T21:43:13.500001Z"],
    ["2026-11-03T10:05:00Z", "2026-11-03T13:55:00Z"],
    ["2026-11-03T10:00:00Z", "2026-11-03T11:00:00Z"],
    // The captured changes: today.
    [undefined, undefined],
  ];
  const filters: ChangeFilters[] = [
    {},
    { table: "items" },
    { environment: "production", operation: ["UPDATE", "DELETE"] },
    { field: "price" },
    { sourceId: HAND_SOURCE, table: "events" },
  ];
  it.each(ranges)("counts what the minute segments did, from %s to %s", async (from, to) => {
    const now = new Date();
    for (const buckets of [1, 2, 3, 7, 24, 60, 97, 500]) {
      for (const filter of filters) {
        const ranged = { ...filter, ...(from ? { from: iso(from) } : {}), ...(to ? { to: iso(to) } : {}) };
        const activity = await changeActivity(store.db, ranged, buckets, now);
        const expected = await referenceBuckets(store.db, ranged, activity);
        expect(activity.buckets, `${buckets} buckets, ${JSON.stringify(filter)}`).toEqual(expected);
      }
    }
  });

  it("has something to count in those ranges", async () => {
    const activity = await changeActivity(
      store.db,
      { from: iso("2026-11-02T03:17:00Z"), to: iso("2026-11-04T21:43:00Z") },
      7,
    );
    const total = activity.buckets.reduce((n, b) => n + b.CREATE + b.UPDATE + b.DELETE + b.TRUNCATE, 0);
    expect(total).toBeGreaterThan(500);
    const today = await changeActivity(store.db, {}, 60);
    const captured = today.buckets.reduce((n, b) => n + b.CREATE + b.UPDATE + b.DELETE + b.TRUNCATE, 0);
    expect(captured).toBe(expected);
  });
});
