/**
 * A trail a year old has hundreds of partitions (a month per source, a day per short-lived table, years of them):
 * the reads that can bound themselves (a page of the list, a key's changes within a table, one change, its
 * transaction) open only the partitions their changes can be in, and still find every change, wherever it is: in a
 * month of the source's bucket, a day of a table's, or the default partition (rows whose partition is not made yet).
 * Time travel (a row, a table as of a moment) reads only the partitions of the table's buckets between its first
 * change and that moment. Old code planned and probed every partition, so the counts below fail on it.
 */
import type { SQL } from "drizzle-orm";
import { sql } from "drizzle-orm";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordAsOf, tableAsOf } from "@/lib/changes/as-of";
import { liveChanges } from "@/lib/changes/live";
import { getChange, listChanges, type ChangeFilters } from "@/lib/changes/queries";
import { summarizeStoredRows } from "@/lib/changes/segments";
import { groupByRow, trailConflicts } from "@/lib/changes/revert/conflicts";
import { selectChanges } from "@/lib/changes/revert/select";
import { sealNextBatch } from "@/lib/seals/seal";
import { verifySource } from "@/lib/seals/verify";
import { transactionChanges } from "@/lib/changes/transaction";
import { readTransactionCursor } from "@/lib/changes/transaction-cursor";
import { connectStore, type Queryable, type Store } from "@/lib/db/client";
import { migrateStore } from "@/lib/db/migrate";
import { ensurePartition } from "@/lib/retention/partitions";
import { spanAt } from "@/lib/retention/spans";
import { startTestServer, type TestServer } from "./support/postgres";

let server: TestServer;
let store: Store;
const PRODUCTION = "a1000000-0000-4000-8000-000000000001";
const STAGING = "a2000000-0000-4000-8000-000000000002";
const DAY_MS = 86_400_000;
/** The first commit time; the changes span the 360 days after it, five to a transaction. */
const START = Date.UTC(2025, 11, 1);
const CHANGES = 6_000;

type PlanNode = { "Relation Name"?: string; Plans?: PlanNode[] };
const relations = (node: PlanNode): string[] => [
  ...(node["Relation Name"] ? [node["Relation Name"]] : []),
  ...(node.Plans ?? []).flatMap(relations),
];

/** The partitions of `changes` the statements `read` runs would open (their plans, after the planner's pruning). */
async function partitionsOpened(read: (db: Queryable) => Promise<unknown>): Promise<Set<string>> {
  const opened = new Set<string>();
  const explaining = {
    execute: async (query: SQL) => {
      const plan = await store.db.execute<{ "QUERY PLAN": [{ Plan: PlanNode }] }>(sql`explain (format json) ${query}`);
      const root = plan.rows[0]?.["QUERY PLAN"][0].Plan;
      if (!root) throw new Error("no plan");
      for (const name of relations(root)) {
        if (name.startsWith("changes_")) opened.add(name);
      }
      return store.db.execute(query);
    },
  } as unknown as Queryable;
  await read(explaining);
  return opened;
}

async function allPartitions(): Promise<string[]> {
  const { rows } = await server.query<{ name: string }>(
    `select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = 'changes'::regclass`,
  );
  return rows.map((row) => row.name);
}

/** Every page of the list for these filters: the ids, newest first. */
async function listAll(filters: ChangeFilters): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await listChanges(store.db, filters, { limit: 100, cursor });
    ids.push(...page.changes.map((change) => change.id));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return ids;
}

async function reference(where: string): Promise<string[]> {
  const { rows } = await server.query<{ id: string }>(
    `select c.id::text from changes c where ${where} order by c.id desc`,
  );
  return rows.map((row) => row.id);
}

beforeAll(async () => {
  server = await startTestServer();
  await migrateStore(server.url());
  store = connectStore(server.url(), { max: 2 });
  for (const [id, environment] of [
    [PRODUCTION, "production"],
    [STAGING, "staging"],
  ] as const) {
    await server.query(
      `insert into sources (id, name, host, port, database, username, password_encrypted, environment,
                            slot_name, publication_name)
       values ($1, $2, 'localhost', 5432, 'shop', 'retrace', 'v1:dummy', $2, $2, 'retrace_pub')`,
      [id, environment],
    );
  }
  // Each source's bucket a month at a time, for the year of changes and the three years before it (empty);
  // production's `notes` (a short rule) a day at a time for the year. `drafts` has a bucket and no partition yet:
  // its rows wait in the default partition.
  for (let month = -36; month <= 12; month++) {
    const at = new Date(Date.UTC(2025, 11 + month, 15));
    for (const sourceId of [PRODUCTION, STAGING]) {
      await ensurePartition(store.pool, { sourceId, bucket: "", span: spanAt(at, null) });
    }
  }
  for (let day = 0; day < 361; day++) {
    const at = new Date(START + day * DAY_MS);
    await ensurePartition(store.pool, { sourceId: PRODUCTION, bucket: "public.notes", span: spanAt(at, 1) });
  }
  // Production's tables in turn (items, notes, drafts), one staging transaction in ten; keys repeat across tables.
  await server.query(
    `insert into changes (source_id, environment, database, schema, "table", bucket, primary_key, operation,
                          after, context, transaction_id, commit_lsn, seq, committed_at, queued_at)
     select case when t % 10 = 9 then $2::uuid else $1::uuid end,
            case when t % 10 = 9 then 'staging' else 'production' end, 'shop', 'public', name,
            case when t % 10 = 9 or name = 'items' then '' else 'public.' || name end,
            (g % 700)::text, (array['CREATE', 'UPDATE', 'DELETE'])[1 + g % 3]::operation,
            case when g % 3 = 2 then null else json_build_object('id', g % 700) end, '{}'::jsonb, t,
            ('0/' || to_hex(16 + t * 16))::pg_lsn, g % 5,
            $3::timestamptz + t * interval '6 hours' + interval '1 hour', now()
       from generate_series(0, $4::int - 1) g,
            lateral (select g / 5 as t) tx,
            lateral (select (array['items', 'notes', 'drafts'])[1 + t % 3] as name) tbl`,
    [PRODUCTION, STAGING, new Date(START).toISOString(), CHANGES],
  );
  await summarizeStoredRows(store.pool, "1", String(CHANGES));
  await server.query("analyze");
}, 300_000);

afterAll(async () => {
  await store?.pool.end();
  await server?.stop();
});

describe("reads on a trail of hundreds of partitions", () => {
  it("has them, and rows in every kind of partition", async () => {
    expect((await allPartitions()).length).toBeGreaterThan(450);
    const { rows } = await server.query<{ kind: string; n: number }>(
      `select case when tableoid = 'changes_default'::regclass then 'default'
                   when bucket = '' then 'source' else 'table' end as kind, count(*)::int as n
         from changes group by 1 order by 1`,
    );
    expect(rows.map((row) => row.kind)).toEqual(["default", "source", "table"]);
  });

  it.each<[string, ChangeFilters, string]>([
    ["no filter", {}, "true"],
    ["a table in its own day partitions", { table: "notes" }, `"table" = 'notes'`],
    ["a table waiting in the default partition", { table: "drafts" }, `"table" = 'drafts'`],
    ["an environment", { environment: "staging" }, "environment = 'staging'"],
    ["an operation", { operation: "DELETE" }, "operation = 'DELETE'"],
    ["a primary key", { primaryKey: "123" }, "primary_key = '123'"],
    ["a primary key in a table", { table: "items", primaryKey: "123" }, `"table" = 'items' and primary_key = '123'`],
  ])("lists %s: exactly the changes, every page", async (_name, filters, where) => {
    const expected = await reference(where);
    expect(expected.length).toBeGreaterThan(0);
    expect(await listAll(filters)).toEqual(expected);
  });

  it("opens a few partitions for the newest page, not all of them", async () => {
    const all = await allPartitions();
    for (const filters of [{}, { table: "notes" }, { operation: "DELETE" as const }, { environment: "staging" }]) {
      const opened = await partitionsOpened((db) => listChanges(db, filters, { limit: 50 }));
      expect(opened.size, JSON.stringify(filters)).toBeLessThanOrEqual(12);
      expect(opened.size).toBeLessThan(all.length / 20);
    }
  });

  it("reads a key within a table in the table's buckets only", async () => {
    const opened = await partitionsOpened((db) =>
      listChanges(db, { table: "items", primaryKey: "123" }, { limit: 50 }),
    );
    const { rows } = await server.query<{ name: string }>(
      "select name from trail_partitions where bucket = 'public.notes'",
    );
    expect(rows.length).toBeGreaterThan(300);
    const notes = new Set(rows.map((row) => row.name));
    expect([...opened].filter((name) => notes.has(name))).toEqual([]);
    expect(opened.has("changes_default")).toBe(true);
  });

  it("finds a change, its transaction and their reverts in a month, a day and the default partition", async () => {
    for (const table of ["items", "notes", "drafts"]) {
      const { rows } = await server.query<{ id: string; partition: string }>(
        `select c.id::text, c.tableoid::regclass::text as partition
           from changes c where "table" = $1 and source_id = $2 order by c.id limit 1 offset 500`,
        [table, PRODUCTION],
      );
      const [{ id, partition } = { id: "", partition: "" }] = rows;
      const siblings = await server.query<{ id: string }>(
        `select t.id::text from changes c join changes t on t.source_id = c.source_id and t.commit_lsn = c.commit_lsn
          where c.id = $1 order by t.seq`,
        [id],
      );
      const detail = await getChange(store.db, id);
      expect(detail?.change.id).toBe(id);
      expect(detail?.transaction.map((change) => change.id)).toEqual(siblings.rows.map((s) => s.id));
      const paged: string[] = [];
      let afterSeq: number | undefined;
      for (;;) {
        const page = await transactionChanges(store.db, id, { afterSeq, limit: 2 });
        paged.push(...(page?.changes.map((change) => change.id) ?? []));
        if (!page?.nextCursor) break;
        afterSeq = readTransactionCursor(page.nextCursor) ?? undefined;
      }
      expect(paged).toEqual(siblings.rows.map((s) => s.id));

      // What a revert of it, or of its transaction, undoes: the change; its transaction backwards.
      expect((await selectChanges(store.db, { changeId: id })).changes.map((change) => change.id)).toEqual([id]);
      const transaction = await selectChanges(store.db, { transactionOf: id });
      expect(transaction.changes.map((change) => change.id)).toEqual(siblings.rows.map((s) => s.id).reverse());

      const opened = await partitionsOpened(async (db) => {
        await getChange(db, id);
        await transactionChanges(db, id, { limit: 2 });
        await selectChanges(db, { transactionOf: id });
      });
      expect(opened.has(partition), `${table}: ${partition} among ${[...opened].join(", ")}`).toBe(true);
      expect(opened.size).toBeLessThanOrEqual(6);
    }
    expect(await getChange(store.db, String(CHANGES + 1))).toBeNull();
  });

  it("tails what is stored after a token from the partitions it can be in", async () => {
    const lastLsn = async () => {
      const { rows } = await server.query<{ lsn: string }>("select max(commit_lsn)::text as lsn from changes");
      return rows[0]?.lsn ?? "0/0";
    };
    await server.query("update sources set checkpoint_lsn = $1::pg_lsn", [await lastLsn()]);
    const { liveToken } = await listChanges(store.db, {}, { limit: 10 });
    const idle = await partitionsOpened((db) => liveChanges(db, {}, liveToken, 50));
    expect(idle.size).toBe(0);

    // A transaction of production in each table (a month of the source's bucket, a day of notes', the default)
    // and one of staging, all committed after the token's positions, in the last days of the year.
    const { rows: top } = await server.query<{ id: string }>("select max(id)::text as id from changes");
    await server.query(
      `insert into changes (source_id, environment, database, schema, "table", bucket, primary_key, operation,
                            after, context, transaction_id, commit_lsn, seq, committed_at, queued_at)
       select case when t = 3 then $2::uuid else $1::uuid end,
              case when t = 3 then 'staging' else 'production' end, 'shop', 'public', name,
              case when t = 3 or name = 'items' then '' else 'public.' || name end, g::text, 'CREATE', '{}', '{}',
              100000 + t, ('1/' || to_hex(16 + t * 16))::pg_lsn, g, $3::timestamptz + t * interval '1 hour', now()
         from generate_series(0, 3) t, generate_series(0, 2) g,
              lateral (select (array['items', 'notes', 'drafts', 'items'])[1 + t] as name) tbl`,
      [PRODUCTION, STAGING, new Date(START + 355 * DAY_MS).toISOString()],
    );
    await summarizeStoredRows(store.pool, String(Number(top[0]?.id) + 1), String(Number(top[0]?.id) + 12));
    await server.query("update sources set checkpoint_lsn = $1::pg_lsn", [await lastLsn()]);

    const tail = await liveChanges(store.db, {}, liveToken, 50);
    expect(tail.changes.map((change) => change.id)).toEqual(await reference(`commit_lsn >= '1/0'`));
    expect(tail.more).toBe(false);
    const notes = await liveChanges(store.db, { table: "notes" }, liveToken, 50);
    expect(notes.changes.map((change) => change.id)).toEqual(
      await reference(`commit_lsn >= '1/0' and "table" = 'notes'`),
    );
    const opened = await partitionsOpened((db) => liveChanges(db, {}, liveToken, 50));
    expect(opened.has("changes_default")).toBe(true);
    expect(opened.size).toBeLessThanOrEqual(8);
    // From the token the tail hands back, nothing is new.
    expect((await liveChanges(store.db, {}, tail.token, 50)).changes).toEqual([]);
  });
});

const moment = (day: number) => new Date(START + day * DAY_MS + 3 * 3_600_000).toISOString();

/** The table as of `at` by a plain query: each key's latest change then, after the last TRUNCATE, unless a DELETE. */
async function expectedTable(table: string, at: string): Promise<{ key: string; change: string }[]> {
  const { rows } = await server.query<{ key: string; change: string }>(
    `select primary_key as key, id::text as change from (
       select distinct on (primary_key) primary_key, operation, id from changes
        where source_id = $1 and "table" = $2 and committed_at <= $3 and primary_key is not null
          and id > coalesce((select max(id) from changes where source_id = $1 and "table" = $2
                               and operation = 'TRUNCATE' and committed_at <= $3), 0)
        order by primary_key, id desc) latest
      where operation <> 'DELETE' order by primary_key`,
    [PRODUCTION, table, at],
  );
  return rows;
}

/** Every page of the table as of `at` (`walkFrom`: lib/changes/as-of-walk.ts). */
async function tableAll(
  table: string,
  at: string,
  page: { limit: number; walkFrom?: number } = { limit: 97 },
): Promise<{ key: string; change: string }[]> {
  const rows: { key: string; change: string }[] = [];
  let cursor: string | undefined;
  do {
    const found = await tableAsOf(
      store.db,
      { table, sourceId: PRODUCTION },
      at,
      { limit: page.limit, cursor },
      page.walkFrom,
    );
    rows.push(...found.rows.map((row) => ({ key: row.primaryKey, change: row.changeId ?? "" })));
    cursor = found.nextCursor ?? undefined;
  } while (cursor);
  return rows;
}

describe("time travel on a trail of hundreds of partitions", () => {
  it("reads each table as of a moment exactly, before and after a TRUNCATE, wherever its changes are", async () => {
    // A TRUNCATE of items after every other change (ids follow commit order within a source).
    const { rows: top } = await server.query<{ id: string }>("select max(id)::text as id from changes");
    await server.query(
      `insert into changes (source_id, environment, database, schema, "table", bucket, primary_key, operation,
                            context, transaction_id, commit_lsn, seq, committed_at, queued_at)
       values ($1, 'production', 'shop', 'public', 'items', '', null, 'TRUNCATE', '{}', 200000, '2/0', 0, $2, now())`,
      [PRODUCTION, moment(357)],
    );
    const id = String(Number(top[0]?.id) + 1);
    await summarizeStoredRows(store.pool, id, id);
    for (const table of ["items", "notes", "drafts"]) {
      for (const day of [0, 40, 180, 356, 358]) {
        const expected = await expectedTable(table, moment(day));
        if (day >= 40 && !(table === "items" && day === 358))
          expect(expected.length, `${table} ${day}`).toBeGreaterThan(0);
        expect(await tableAll(table, moment(day)), `${table} as of day ${day}`).toEqual(expected);
      }
    }
    expect(await expectedTable("items", moment(358))).toEqual([]);
  });

  it("reads a row as of a moment exactly", async () => {
    for (const table of ["items", "notes", "drafts"]) {
      for (const day of [40, 180, 356, 358]) {
        for (const key of ["1", "123", "699"]) {
          // What decides the row: its latest change then, or a TRUNCATE of the table after it.
          const { rows } = await server.query<{ id: string; operation: string }>(
            `select c.id::text as id, c.operation::text as operation from changes c
              where c.source_id = $1 and c."table" = $2 and c.committed_at <= $4
                and (c.primary_key = $3 or c.operation = 'TRUNCATE')
              order by c.id desc limit 1`,
            [PRODUCTION, table, key, moment(day)],
          );
          const found = await recordAsOf(store.db, { table, sourceId: PRODUCTION, primaryKey: key }, moment(day));
          const what = `${table} ${key} as of day ${day}`;
          expect(found.change?.id ?? null, what).toBe(rows[0]?.id ?? null);
          expect(found.row !== null, what).toBe(["CREATE", "UPDATE"].includes(rows[0]?.operation ?? ""));
        }
      }
    }
  });

  it("opens only the partitions of the table's buckets between its first change and the moment", async () => {
    const { rows } = await server.query<{ name: string }>(
      "select name from trail_partitions where bucket = 'public.notes'",
    );
    const notes = new Set(rows.map((row) => row.name));
    for (const table of ["items", "drafts"]) {
      const opened = await partitionsOpened(async (db) => {
        await tableAsOf(db, { table, sourceId: PRODUCTION }, moment(100), { limit: 50 });
        await recordAsOf(db, { table, sourceId: PRODUCTION, primaryKey: "123" }, moment(100));
      });
      // The months from the first change (December) to the moment (March), and the default partition.
      expect(opened.size, table).toBeLessThanOrEqual(6);
      expect(opened.has("changes_default")).toBe(true);
      expect([...opened].filter((name) => notes.has(name))).toEqual([]);
    }
    const early = await partitionsOpened((db) =>
      tableAsOf(db, { table: "notes", sourceId: PRODUCTION }, moment(10), { limit: 50 }),
    );
    expect(early.size).toBeLessThanOrEqual(16);
  });

  it("finds what a revert by context undoes, and what changed a row again later, where they can be", async () => {
    const { rows: top } = await server.query<{ id: string }>("select max(id)::text as id from changes");
    const first = Number(top[0]?.id) + 1;
    // A request's changes (items 5 in a month, notes 6 in a day), then items 5 changed again without a context.
    await server.query(
      `insert into changes (source_id, environment, database, schema, "table", bucket, primary_key, operation,
                            after, context, transaction_id, commit_lsn, seq, committed_at, queued_at)
       values ($1, 'production', 'shop', 'public', 'items', '', '5', 'UPDATE', '{"id":5}', '{"request":"r1"}',
               300000, '3/0', 0, $2, now()),
              ($1, 'production', 'shop', 'public', 'notes', 'public.notes', '6', 'UPDATE', '{"id":6}',
               '{"request":"r1"}', 300000, '3/0', 1, $2, now()),
              ($1, 'production', 'shop', 'public', 'items', '', '5', 'UPDATE', '{"id":5}', '{}', 300001, '3/10', 0,
               $3, now())`,
      [PRODUCTION, moment(358), moment(359)],
    );
    await summarizeStoredRows(store.pool, String(first), String(first + 2));
    const ids = [first + 1, first].map(String);

    const selection = await selectChanges(store.db, { context: '{"request":"r1"}' });
    expect(selection.changes.map((change) => change.id)).toEqual(ids);
    const conflicts = await trailConflicts(store.db, PRODUCTION, groupByRow(selection.changes), ids);
    expect(conflicts.map((c) => [c.table, c.primaryKey, c.message.match(/change (\d+)/)?.[1]])).toEqual([
      ["items", "5", String(first + 2)],
    ]);
    const opened = await partitionsOpened(async (db) => {
      const again = await selectChanges(db, { context: '{"request":"r1"}' });
      await trailConflicts(db, PRODUCTION, groupByRow(again.changes), ids);
    });
    expect(opened.size).toBeLessThanOrEqual(8);

    // An old change of items: the first later change of its row (or the table's TRUNCATE), found in items' buckets.
    const { rows: old } = await server.query<{ id: string; key: string; later: string }>(
      `select c.id::text, c.primary_key as key,
              (select min(l.id)::text from changes l where l.source_id = c.source_id and l."table" = 'items'
                  and l.id > c.id and (l.primary_key = c.primary_key or l.operation = 'TRUNCATE')) as later
         from changes c where c.source_id = $1 and c."table" = 'items' order by c.id limit 1 offset 40`,
      [PRODUCTION],
    );
    const change = await selectChanges(store.db, { changeId: old[0]?.id ?? "" });
    const found = await trailConflicts(store.db, PRODUCTION, groupByRow(change.changes), [old[0]?.id ?? ""]);
    expect(found.map((c) => c.message.match(/change (\d+)/)?.[1])).toEqual([old[0]?.later]);
    const notes = new Set(
      (
        await server.query<{ name: string }>("select name from trail_partitions where bucket = 'public.notes'")
      ).rows.map((row) => row.name),
    );
    const checked = await partitionsOpened((db) =>
      trailConflicts(db, PRODUCTION, groupByRow(change.changes), [old[0]?.id ?? ""]),
    );
    expect([...checked].filter((name) => notes.has(name))).toEqual([]);
  });
});

describe("sealing a trail of hundreds of partitions", () => {
  const SECRET = "many-partitions-test-secret-0123456789abcdef";

  /** A pool whose clients explain each statement that reads `changes` before running it: the partitions it opens. */
  function explainingPool(opened: Set<string>): pg.Pool {
    return {
      connect: async () => {
        const client = await store.pool.connect();
        const query = async (text: string, params?: unknown[]) => {
          if (/from changes\b/.test(text) && !/^\s*explain/.test(text)) {
            const plan = await client.query<{ "QUERY PLAN": [{ Plan: PlanNode }] }>(
              `explain (format json) ${text}`,
              params,
            );
            const root = plan.rows[0]?.["QUERY PLAN"][0].Plan;
            for (const name of root ? relations(root) : []) if (name.startsWith("changes_")) opened.add(name);
          }
          return client.query(text, params);
        };
        return { query, release: (error?: Error) => client.release(error) };
      },
    } as unknown as pg.Pool;
  }

  it("seals every change in commit order, reading only the partitions past the chain's head", async () => {
    while ((await sealNextBatch(store.pool, PRODUCTION, SECRET, 1_000)) > 0);
    const sealed = async () =>
      (
        await server.query<{ id: string }>(
          "select change_id::text as id from change_seals where source_id = $1 order by position",
          [PRODUCTION],
        )
      ).rows.map((row) => row.id);
    const inCommitOrder = async () =>
      (
        await server.query<{ id: string }>(
          "select c.id::text as id from changes c where c.source_id = $1 order by c.commit_lsn, c.seq",
          [PRODUCTION],
        )
      ).rows.map((row) => row.id);
    expect((await sealed()).length).toBeGreaterThan(5_000);
    expect(await sealed()).toEqual(await inCommitOrder());

    // A change committed after everything sealed: the next batch reads the last month and the default partition.
    const { rows: top } = await server.query<{ id: string }>("select max(id)::text as id from changes");
    await server.query(
      `insert into changes (source_id, environment, database, schema, "table", bucket, primary_key, operation,
                            after, context, transaction_id, commit_lsn, seq, committed_at, queued_at)
       values ($1, 'production', 'shop', 'public', 'items', '', '7', 'UPDATE', '{"id":7}', '{}', 400000, '4/0', 0,
               $2, now())`,
      [PRODUCTION, moment(360)],
    );
    const id = String(Number(top[0]?.id) + 1);
    await summarizeStoredRows(store.pool, id, id);
    const opened = new Set<string>();
    expect(await sealNextBatch(explainingPool(opened), PRODUCTION, SECRET)).toBe(1);
    expect(opened.has("changes_default")).toBe(true);
    expect(opened.size).toBeLessThanOrEqual(6);
    expect((await sealed()).at(-1)).toBe(id);
    expect(await verifySource(store.pool, PRODUCTION, SECRET)).toMatchObject({ ok: true, unsealed: 0 });
  });
});

describe("time travel by the sealed keys", () => {
  const SECRET = "many-partitions-test-secret-0123456789abcdef";

  /** How many rows the statements `read` runs take from the partitions of `changes` (their plans, run). */
  async function changesRead(read: (db: Queryable) => Promise<unknown>): Promise<number> {
    type Node = PlanNode & { "Actual Rows"?: number; "Actual Loops"?: number };
    const rowsOf = (node: Node): number =>
      (node["Relation Name"]?.startsWith("changes_") ? (node["Actual Rows"] ?? 0) * (node["Actual Loops"] ?? 1) : 0) +
      (node.Plans ?? []).reduce((sum, child) => sum + rowsOf(child), 0);
    let total = 0;
    const explaining = {
      execute: async (query: SQL) => {
        const plan = await store.db.execute<{ "QUERY PLAN": [{ Plan: Node }] }>(
          sql`explain (analyze, format json) ${query}`,
        );
        const root = plan.rows[0]?.["QUERY PLAN"][0].Plan;
        if (root) total += rowsOf(root);
        return store.db.execute(query);
      },
    } as unknown as Queryable;
    await read(explaining);
    return total;
  }

  it("pages each table as of a moment the same by the sealed keys, with a tail not sealed yet", async () => {
    while ((await sealNextBatch(store.pool, PRODUCTION, SECRET, 1_000)) > 0);
    // After the seals: notes 1 deleted, notes 2 changed, notes 9999 created, items 8 created (the tail).
    const { rows: top } = await server.query<{ id: string }>("select max(id)::text as id from changes");
    await server.query(
      `insert into changes (source_id, environment, database, schema, "table", bucket, primary_key, operation,
                            after, context, transaction_id, commit_lsn, seq, committed_at, queued_at)
       select $1, 'production', 'shop', 'public', t."table", t.bucket, t.key, t.operation::operation, t.after::json,
              '{}', 500000, '5/0', t.seq, $2, now()
         from (values ('notes', 'public.notes', '1', 'DELETE', null, 0), ('notes', 'public.notes', '2', 'UPDATE',
                       '{"id":2}', 1), ('notes', 'public.notes', '9999', 'CREATE', '{"id":9999}', 2),
                      ('items', '', '8', 'CREATE', '{"id":8}', 3)) t("table", bucket, key, operation, after, seq)`,
      [PRODUCTION, new Date(START + 360 * DAY_MS + 6 * 3_600_000).toISOString()],
    );
    await summarizeStoredRows(store.pool, String(Number(top[0]?.id) + 1), String(Number(top[0]?.id) + 4));
    const unsealed = await server.query<{ n: number }>(
      `select count(*)::int as n from changes c where c.source_id = $1
          and c.id > (select max(change_id) from change_seals where source_id = $1)`,
      [PRODUCTION],
    );
    expect(unsealed.rows[0]?.n).toBe(4);
    const end = new Date(START + 361 * DAY_MS).toISOString();
    for (const table of ["items", "notes", "drafts"]) {
      for (const at of [moment(0), moment(40), moment(180), moment(356), moment(358), end]) {
        const expected = await expectedTable(table, at);
        const what = `${table} as of ${at}`;
        expect(await tableAll(table, at, { limit: 97, walkFrom: 0 }), what).toEqual(expected);
      }
      // Pages of two when few keys existed: a walk passes at most 60 keys, then the stretch is read.
      expect(await tableAll(table, moment(20), { limit: 2, walkFrom: 0 })).toEqual(
        await expectedTable(table, moment(20)),
      );
    }
    expect((await expectedTable("notes", end)).map((row) => row.key)).toContain("9999");
  });

  it("reads the page's changes, not the table's, when it walks", async () => {
    const at = moment(180);
    const page = (walkFrom: number) => (db: Queryable) =>
      tableAsOf(db, { table: "items", sourceId: PRODUCTION }, at, { limit: 20 }, walkFrom);
    const stretch = await server.query<{ n: number }>(
      `select count(*)::int as n from changes where source_id = $1 and "table" = 'items' and committed_at <= $2`,
      [PRODUCTION, at],
    );
    expect(stretch.rows[0]?.n).toBeGreaterThan(800);
    expect(await changesRead(page(Infinity))).toBeGreaterThanOrEqual(stretch.rows[0]?.n ?? 0);
    // The page's 21 images, and the tail (nothing of items before the moment).
    expect(await changesRead(page(0))).toBeLessThanOrEqual(21);
    // Not while the worker fills in seals from before migration 0026 (lib/seals/backfill.ts): it reads then.
    await server.query("insert into seal_row_backfill (source_id, pending_to) values ($1, 1)", [PRODUCTION]);
    try {
      expect(await changesRead(page(0))).toBeGreaterThanOrEqual(stretch.rows[0]?.n ?? 0);
    } finally {
      await server.query("delete from seal_row_backfill");
    }
  });

  it("says why a big table's page read its changes instead of walking", async () => {
    while ((await sealNextBatch(store.pool, PRODUCTION, SECRET, 1_000)) > 0);
    const at = moment(180);
    const items = async (sourceId: string, walkFrom: number) =>
      (await tableAsOf(store.db, { table: "items", sourceId }, at, { limit: 20 }, walkFrom)).slowRead;
    // Walked, or too few changes to walk: nothing to say.
    expect(await items(PRODUCTION, 0)).toBeNull();
    expect(await items(PRODUCTION, Infinity)).toBeNull();
    // Staging's changes were never sealed: all of them are past the chain's head (there is none).
    const counted = await server.query<{ upto: number; total: number }>(
      `select count(*) filter (where committed_at <= $2)::int as upto, count(*)::int as total
         from changes where source_id = $1 and "table" = 'items' and operation <> 'TRUNCATE'`,
      [STAGING, at],
    );
    const { upto = 0, total = 0 } = counted.rows[0] ?? {};
    expect(upto).toBeGreaterThan(100);
    const behind = await items(STAGING, 0);
    expect(behind).toMatchObject({ unsealed: total, because: "sealer-behind" });
    // The summary bounds the stretch by segments: at least the changes up to the moment, at most all of them.
    expect(behind?.changes).toBeGreaterThanOrEqual(upto);
    expect(behind?.changes).toBeLessThanOrEqual(total);
    await server.query("insert into seal_row_backfill (source_id, pending_to) values ($1, 1)", [PRODUCTION]);
    try {
      expect(await items(PRODUCTION, 0)).toMatchObject({ because: "seals-completing" });
      expect(await items(PRODUCTION, Infinity)).toBeNull();
    } finally {
      await server.query("delete from seal_row_backfill");
    }
  });
});
