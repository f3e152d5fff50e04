/**
 * The change list's filters on a store large enough for the planner to have a choice: each filter
 * is served by an index, never by reading all of `changes`, so a page costs about the same at
 * any size. The plans are PostgreSQL's own (EXPLAIN of the exact statement listChanges runs).
 */
import type { SQL } from "drizzle-orm";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeCursor } from "@/lib/changes/cursor";
import { listChanges, type ChangeFilters } from "@/lib/changes/queries";
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

const indexesUsed = (plan: PlanNode[]) => plan.flatMap((node) => (node["Index Name"] ? [node["Index Name"]] : []));
const scansChanges = (plan: PlanNode[]) =>
  plan.some((node) => node["Node Type"] === "Seq Scan" && node["Relation Name"] === "changes");

beforeAll(async () => {
  server = await startTestServer();
  await migrateStore(server.url());
  store = connectStore(server.url(), { max: 2 });
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
           json_build_object('id', g), '{}', g, ('0/' || to_hex(g * 16))::pg_lsn, 0, now(), now()
      from generate_series(1, 200000) g,
           lateral (select case when g % 1000 = 1 then 3 when g % 100 = 0 then 2 else 1 end as k) source`,
    [sources],
  );
  for (const [i, environment] of ["production", "staging", "test"].entries()) {
    await server.query(
      `insert into sources (id, name, host, port, database, username, password_encrypted, environment,
                            slot_name, publication_name)
       values ($1, $2, 'localhost', 5432, 'shop', 'retrace', 'v1:dummy', $3, $2, 'retrace_pub')`,
      [sources[i], `source_${i}`, environment],
    );
  }
  await server.query("analyze changes");
}, 120_000);

afterAll(async () => {
  await store?.pool.end();
  await server?.stop();
});

describe("the change list's plans on 200k changes", () => {
  const cases: Array<{ name: string; filters: ChangeFilters; index: string }> = [
    { name: "no filter", filters: {}, index: "changes_pkey" },
    { name: "a rarely changed table", filters: { table: "rare" }, index: "changes_table_id" },
    { name: "a rarely changed table, schema-qualified", filters: { table: "public.rare" }, index: "changes_table_id" },
    { name: "a primary key", filters: { primaryKey: "1234" }, index: "changes_primary_key" },
    // Each of the environment's sources reads its own newest rows (lib/changes/queries.ts).
    { name: "a small environment", filters: { environment: "test" }, index: "changes_source_lsn_seq" },
    { name: "a small source", filters: { sourceId: sources[2] }, index: "changes_source_lsn_seq" },
  ];
  it.each(cases)("$name: by $index", async ({ filters, index }) => {
    const next = (await listChanges(store.db, filters, { limit: 50 })).nextCursor;
    for (const cursor of [undefined, next ?? encodeCursor("100000")]) {
      const plan = await planOf(filters, cursor);
      expect(scansChanges(plan), JSON.stringify(plan)).toBe(false);
      expect(indexesUsed(plan)).toContain(index);
    }
  });

  it.each([{ table: "t7" }, { environment: "production" }])(
    "a busy %o walks the newest changes (its rows are everywhere)",
    async (filters) => {
      const plan = await planOf(filters);
      expect(scansChanges(plan)).toBe(false);
      expect(indexesUsed(plan).length).toBeGreaterThan(0);
    },
  );

  it("a table and a primary key together read no more than the key's rows", async () => {
    const plan = await planOf({ table: "t7", primaryKey: "1234" });
    expect(scansChanges(plan)).toBe(false);
    expect(indexesUsed(plan)).toContain("changes_primary_key");
  });

  it("a deep page of a busy environment starts where each source stopped (reads no earlier page again)", async () => {
    const filters = { environment: "production" };
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++)
      cursor = (await listChanges(store.db, filters, { limit: 50, cursor })).nextCursor ?? undefined;
    expect(cursor).toBeDefined();
    const plan = await planOf(filters, cursor, { analyze: true });
    const scans = plan.filter((node) => node["Relation Name"] === "changes");
    expect(scans.map((node) => node["Index Name"])).toEqual(["changes_source_lsn_seq"]);
    expect(scans[0]?.["Index Cond"]).toContain("commit_lsn");
    // The page (51 rows), not the 500 rows of the pages before it.
    const read = scans.reduce(
      (sum, node) => sum + (node["Actual Rows"] ?? 0) + (node["Rows Removed by Filter"] ?? 0),
      0,
    );
    expect(read).toBeLessThanOrEqual(51);
  });

  it("an operation alone walks the primary key backwards (no index of its own)", async () => {
    const plan = await planOf({ operation: "DELETE" });
    expect(scansChanges(plan)).toBe(false);
    expect(indexesUsed(plan)).toEqual(["changes_pkey"]);
  });
});
