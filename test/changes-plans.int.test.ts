/**
 * The change list's filters on a store large enough for the planner to have a choice: each filter
 * is served by the change summary and an index, never by reading all of `changes`, so a page costs
 * about the same at any size and any depth. The plans are PostgreSQL's own (EXPLAIN ANALYZE of the
 * last statement listChanges runs: the one that reads changes).
 */
import type { SQL } from "drizzle-orm";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { summarizeStoredRows } from "@/lib/changes/segments";
import { listChanges, type ChangeFilters } from "@/lib/changes/queries";
import { keepPartitions } from "@/lib/retention/partitions";
import { connectStore, type Queryable, type Store } from "@/lib/db/client";
import { migrateStore } from "@/lib/db/migrate";
import { startTestServer, type TestServer } from "./support/postgres";

let server: TestServer;
let store: Store;
const sources = [
  "00000000-0000-4000-8000-000000000001",
  "00000000-0000-4000-8000-000000000002",
  "00000000-0000-4000-8000-000000000003",
];

type PlanNode = {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  "Index Cond"?: string;
  "Actual Rows"?: number;
  "Rows Removed by Filter"?: number;
  Plans?: PlanNode[];
};

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

/** The plan of the (last) statement listChanges runs for these filters (first page, or after a cursor). */
async function planOf(
  filters: ChangeFilters,
  cursor?: string,
  options: { analyze?: boolean } = {},
): Promise<PlanNode[]> {
  const statements: SQL[] = [];
  const recording = {
    execute: (query: SQL) => {
      statements.push(query);
      return store.db.execute(query);
    },
  } as unknown as Queryable;
  await listChanges(recording, filters, { limit: 50, cursor });
  const query = statements.at(-1);
  if (!query) throw new Error("listChanges ran no statement");
  const result = await store.db.execute<{ "QUERY PLAN": [{ Plan: PlanNode }] }>(
    options.analyze ? sql`explain (analyze, format json) ${query}` : sql`explain (format json) ${query}`,
  );
  const plan = result.rows[0]?.["QUERY PLAN"][0]?.Plan;
  if (!plan) throw new Error("no plan");
  return nodes(plan);
}

/**
 * `changes` is partitioned (per source and span of commit time): its partitions, each partition index's partitioned
 * index (by name), and the partitions small enough (SMALL_PARTITION rows at most: a few pages) that reading one
 * whole is the cheapest plan there is. A small source's changes are all in partitions of its own, and the planner
 * rightly reads such a partition whole instead of by an index; those reads are not counted below.
 */
const partitions = new Set<string>(["changes"]);
const smallPartitions = new Set<string>();
const parentIndex = new Map<string, string>();
const SMALL_PARTITION = 1_000;
const ofChanges = (node: PlanNode) => node["Relation Name"] !== undefined && partitions.has(node["Relation Name"]);
const readsSmall = (node: PlanNode) =>
  node["Node Type"] === "Seq Scan" && smallPartitions.has(node["Relation Name"] ?? "");

const indexesUsed = (plan: PlanNode[]) =>
  plan.flatMap((node) => (node["Index Name"] ? [parentIndex.get(node["Index Name"]) ?? node["Index Name"]] : []));
const scansChanges = (plan: PlanNode[]) =>
  plan.some((node) => node["Node Type"] === "Seq Scan" && ofChanges(node) && !readsSmall(node));
/** Whether the changes come from large partitions only (in a small one the planner may take any way in). */
const indexOnly = (plan: PlanNode[]) =>
  !plan.some(
    (node) =>
      smallPartitions.has(node["Relation Name"] ?? "") &&
      (node["Actual Rows"] ?? 0) + (node["Rows Removed by Filter"] ?? 0) > 0,
  );

beforeAll(async () => {
  server = await startTestServer();
  await migrateStore(server.url());
  store = connectStore(server.url(), { max: 2 });
  for (const [i, environment] of ["production", "staging", "test"].entries()) {
    await server.query(
      `insert into sources (id, name, host, port, database, username, password_encrypted, environment,
                            slot_name, publication_name)
       values ($1, $2, 'localhost', 5432, 'shop', 'retrace', 'v1:dummy', $3, $2, 'retrace_pub')`,
      [sources[i], `source_${i}`, environment],
    );
  }
  // Each source's partitions, as the worker's keeper makes them.
  await keepPartitions(store.pool);
  // 200k changes, skewed as real stores are: most from one production source, 1% from staging,
  // 0.1% from test; 40 busy tables and one rarely changed; 5000 keys a table. Walking the newest
  // rows finds a busy table's page at once (and the planner rightly does that); a rare table,
  // environment or source needs its index.
  await server.query(
    `
    insert into changes (source_id, environment, database, schema, "table", primary_key, operation,
                         after, context, transaction_id, commit_lsn, seq, committed_at, queued_at)
    select ($1::uuid[])[k], (array['production', 'staging', 'test'])[k], 'shop', 'public',
           case when g % 5000 = 3 then 'rare' else 't' || (g % 40) end, ((g / 40) % 5000)::text,
           (array['CREATE', 'UPDATE', 'UPDATE', 'DELETE'])[1 + g % 4]::operation,
           json_build_object('id', g),
           case when g % 350 = 7 then '{"user_id":7}' when g % 100000 = 3 then '{"user_id":"rare"}'
                else '{}' end::jsonb,
           g, ('0/' || to_hex(g * 16))::pg_lsn, 0, now(), now()
      from generate_series(1, 200000) g,
           lateral (select case when g % 1000 = 1 then 3 when g % 100 = 0 then 2 else 1 end as k) source`,
    [sources],
  );
  // What the worker writes with every store commit (lib/changes/segments.ts).
  await summarizeStoredRows(store.pool, "1", "200000");
  await server.query("analyze");
  const { rows: tree } = await server.query<{ child: string; parent: string; kind: string; tuples: number }>(
    `select c.relname as child, p.relname as parent, c.relkind::text as kind, c.reltuples::float8 as tuples
       from pg_inherits i join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent
      where p.relname like 'changes%'`,
  );
  for (const { child, parent, kind, tuples } of tree) {
    if (kind === "r") partitions.add(child);
    else parentIndex.set(child, parent);
    if (kind === "r" && tuples <= SMALL_PARTITION) smallPartitions.add(child);
  }
}, 120_000);

afterAll(async () => {
  await store?.pool.end();
  await server?.stop();
});

/**
 * Changes the plan read from the table (index scans and bitmap heap scans): those it kept and those it filtered out.
 * Index entries a bitmap gathers first are not counted.
 */
const rowsRead = (plan: PlanNode[]) =>
  plan
    .filter((node) => ofChanges(node) && !readsSmall(node))
    .reduce((sum, node) => sum + (node["Actual Rows"] ?? 0) + (node["Rows Removed by Filter"] ?? 0), 0);

describe("the change list's plans on 200k changes", () => {
  const cases: Array<{ name: string; filters: ChangeFilters; index?: string; most: number }> = [
    // Read by the newest segments' id ranges, like the filters (so that a trail of many partitions opens only the
    // newest): each source's range up to a page, a few rows more than a page between them.
    { name: "no filter", filters: {}, index: "changes_id", most: 120 },
    { name: "a rarely changed table", filters: { table: "rare" }, most: 200 },
    { name: "a rarely changed table, schema-qualified", filters: { table: "PUBLIC.Rare" }, most: 200 },
    { name: "a primary key", filters: { primaryKey: "1234" }, index: "changes_primary_key", most: 200 },
    // A small source's changes are spread among a busy one's: read by its (source_id, commit_lsn, seq) index.
    { name: "a small environment", filters: { environment: "test" }, index: "changes_source_lsn_seq", most: 400 },
    { name: "a small source", filters: { sourceId: sources[2] }, index: "changes_source_lsn_seq", most: 400 },
    // One change in 40: walking the ids of its segments (as the planner may choose) reads 40 for each it keeps.
    { name: "a busy table", filters: { table: "t7" }, most: 2500 },
    { name: "a busy environment", filters: { environment: "production" }, most: 400 },
    { name: "a table and a primary key", filters: { table: "t7", primaryKey: "1234" }, most: 200 },
    { name: "an operation", filters: { operation: "DELETE" }, most: 400 },
    {
      name: "two operations of a small source",
      filters: { operation: ["DELETE", "CREATE"], sourceId: sources[2] },
      most: 400,
    },
    { name: "a changed field", filters: { field: "name" }, most: 400 },
    { name: "a context", filters: { context: '{"user_id":7}' }, most: 1500 },
    { name: "a rare context", filters: { context: '{"user_id":"rare"}' }, most: 10 },
    { name: "a context and a table", filters: { context: '{"user_id":7}', table: "t7" }, most: 1500 },
  ];
  it.each(cases)("$name: reads about a page of changes, first and deep", async ({ filters, index, most }) => {
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const plan = await planOf(filters, cursor, { analyze: true });
      expect(scansChanges(plan), JSON.stringify(plan)).toBe(false);
      if (index && indexOnly(plan)) expect(indexesUsed(plan)).toContain(index);
      expect(rowsRead(plan), `page ${page + 1}`).toBeLessThanOrEqual(most);
      cursor = (await listChanges(store.db, filters, { limit: 50, cursor })).nextCursor ?? undefined;
      if (!cursor) break;
    }
  });

  it.each<ChangeFilters>([
    { operation: "TRUNCATE" },
    { table: "nosuchtable" },
    { environment: "nowhere" },
    { field: "nosuchcolumn" },
    { table: "rare", operation: "TRUNCATE" },
  ])("a filter that matches nothing reads no change: %o", async (filters) => {
    const plan = await planOf(filters, undefined, { analyze: true });
    expect(rowsRead(plan)).toBe(0);
    expect((await listChanges(store.db, filters, { limit: 50 })).changes).toEqual([]);
  });
});
