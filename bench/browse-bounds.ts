/**
 * Is the context filter and the 24 h activity chart bounded by the page (the chart's buckets), not by the trail?
 * `npx tsx bench/browse-bounds.ts [port]`: on a server of its own, stores changes shaped like the browse workload's
 * (1000-change transactions over 20 skewed tables and 3 sources, a context on every third transaction; every 200k
 * changes spread over the same 20 minutes of the last half hour, so the trail grows and the range it covers does
 * not: the whole trail inside "the last 24 h", as in the scale bench), summarised as the worker summarises them,
 * at 200k and then 1M changes (BOUNDS_SIZES=200000,1000000,2000000 for others); at each size, EXPLAIN (ANALYZE,
 * BUFFERS) of every statement of the old and the new path of `context {"user_id":42}` (first page and a deep one)
 * and of "activity, last 24 h". Prints buffers (shared hit + read) and rows the plans touched (of tables, index
 * entries a bitmap gathers not counted): on a shared machine those compare, where milliseconds do not.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { sql, type SQL } from "drizzle-orm";
import { changeActivity } from "../lib/changes/activity";
import { listChanges } from "../lib/changes/list";
import { columns } from "../lib/changes/change";
import { summarizeStoredRows } from "../lib/changes/segments";
import { connectStore, type Queryable, type Store } from "../lib/db/client";
import { migrateStore } from "../lib/db/migrate";
import { keepPartitions } from "../lib/retention/partitions";
import { embeddedServer } from "../lib/store/embedded";

const SOURCES = [
  "00000000-0000-4000-8000-000000000001",
  "00000000-0000-4000-8000-000000000002",
  "00000000-0000-4000-8000-000000000003",
];
const CONTEXT = '{"user_id":42}';

type Plan = {
  "Node Type": string;
  "Actual Rows"?: number;
  "Actual Loops"?: number;
  "Rows Removed by Filter"?: number;
  "Rows Removed by Index Recheck"?: number;
  "Shared Hit Blocks"?: number;
  "Shared Read Blocks"?: number;
  "Relation Name"?: string;
  Plans?: Plan[];
};
type Figure = { statements: number; buffers: number; rows: number; ms: number };

const flatten = (plan: Plan): Plan[] => [plan, ...(plan.Plans ?? []).flatMap(flatten)];

async function explain(store: Store, statements: SQL[]): Promise<Figure> {
  const figure: Figure = { statements: 0, buffers: 0, rows: 0, ms: 0 };
  for (const statement of statements) {
    const result = await store.db.execute<{ "QUERY PLAN": [{ Plan: Plan; "Execution Time": number }] }>(
      sql`explain (analyze, buffers, format json) ${statement}`,
    );
    const top = result.rows[0]?.["QUERY PLAN"][0];
    if (!top) continue;
    figure.statements++;
    figure.ms += top["Execution Time"];
    figure.buffers += (top.Plan["Shared Hit Blocks"] ?? 0) + (top.Plan["Shared Read Blocks"] ?? 0);
    // Rows the scans of tables produced or threw away (index entries a bitmap gathers are not counted).
    for (const node of flatten(top.Plan)) {
      if (!node["Relation Name"]) continue;
      const loops = node["Actual Loops"] ?? 1;
      if (process.env.BOUNDS_VERBOSE)
        console.log(`    ${node["Node Type"]} ${node["Relation Name"]} rows=${node["Actual Rows"]} loops=${loops}`);
      figure.rows +=
        ((node["Actual Rows"] ?? 0) +
          (node["Rows Removed by Filter"] ?? 0) +
          (node["Rows Removed by Index Recheck"] ?? 0)) *
        loops;
    }
  }
  return figure;
}

/** The statements `run` sends (those that read), recorded, not explained yet. */
async function recorded(store: Store, run: (db: Queryable) => Promise<unknown>): Promise<SQL[]> {
  const statements: SQL[] = [];
  const recording = {
    execute: (query: SQL) => {
      statements.push(query);
      return store.db.execute(query);
    },
  } as unknown as Queryable;
  await run(recording);
  return statements;
}

/** The old context path (before change_contexts): the newest 5000 changes, then the context index and a sort. */
function oldContextStatements(before: string | null): SQL[] {
  const conditions = sql`c.context @> ${CONTEXT}::jsonb and c.context <> '{}'::jsonb`;
  const below = before === null ? sql`` : sql`where id < ${before}::bigint`;
  const idBelow = before === null ? sql`` : sql` and c.id < ${before}::bigint`;
  return [
    sql`select ${columns} from (select * from changes ${below} order by id desc limit 5000) c
         where ${conditions} order by c.id desc limit 51`,
    sql`select ${columns} from changes c where ${conditions}${idBelow} order by c.id + 0 desc limit 51`,
  ];
}

/** The old chart path: the minute segments of the range, one branch per operation. */
function oldActivityStatement(now: Date): SQL {
  const toMs = now.getTime();
  const origin = sql`${new Date(Math.floor((toMs - 86_400_000) / 60_000) * 60_000).toISOString()}::timestamptz`;
  const bucketSeconds = 1440;
  const branches = ["creates", "updates", "deletes", "truncates"].map(
    (column, i) => sql`select floor(extract(epoch from s.minute - ${origin}) / ${bucketSeconds})::int as i,
                              ${i}::text as operation, sum(${sql.raw(`s.${column}`)})::text as n
                         from change_segments s
                        where ${sql.raw(`(s.creates + s.updates + s.deletes + s.truncates)`)} > 0
                          and s.minute >= ${origin} and s.minute < ${now.toISOString()}::timestamptz group by 1`,
  );
  return sql.join(branches, sql` union all `);
}

/** Changes [from, to) as the browse workload makes them, summarised as the worker does (a statement per 50k). */
async function fill(store: Store, from: number, to: number, start: Date): Promise<void> {
  for (let lo = from; lo < to; lo += 50_000) {
    const hi = Math.min(lo + 50_000, to);
    await store.pool.query(
      `insert into changes (source_id, environment, database, schema, "table", primary_key, operation, after,
                            changed_fields, context, transaction_id, commit_lsn, seq, committed_at, queued_at)
       select ($1::uuid[])[1 + t % 3], (array['production', 'staging', 'test'])[1 + t % 3], 'shop', 'public',
              't' || lpad((1 + floor(((t * 0.6180339887498949) % 1.0) * 20))::int::text, 2, '0'),
              g::text,
              case when g % 1000 < 600 then 'CREATE' when g % 1000 < 950 then 'UPDATE' else 'DELETE'
              end::operation,
              json_build_object('id', g, 'amount', g % 1000),
              case when g % 1000 between 600 and 949
                   then array[case when t % 2 = 0 then 'amount' else 'status' end] end,
              case when t % 3 = 0 then jsonb_build_object('user_id', (t / 3) % 50, 'endpoint', 'POST /orders') end,
              t, ('0/' || to_hex(g * 16))::pg_lsn, g % 1000,
              $2::timestamptz + (g % 200000) * interval '6 milliseconds', now()
         from generate_series($3::bigint, $4::bigint - 1) g, lateral (select g / 1000 as t) x
        order by g`,
      [SOURCES, start.toISOString(), lo, hi],
    );
    const ids = await store.pool.query<{ lo: string; hi: string }>(
      "select (last_value - $1::bigint + 1)::text as lo, last_value::text as hi from changes_id_seq",
      [hi - lo],
    );
    await summarizeStoredRows(store.pool, ids.rows[0]?.lo ?? "0", ids.rows[0]?.hi ?? "0");
  }
  await store.pool.query("vacuum analyze");
}

async function measure(store: Store, size: number): Promise<Record<string, Figure>> {
  const now = new Date();
  const first = await listChanges(store.db, { context: CONTEXT }, { limit: 50 });
  const cursor = first.nextCursor ?? undefined;
  const deepBefore = cursor
    ? (await listChanges(store.db, { context: CONTEXT }, { limit: 50, cursor })).changes[0]?.id
    : null;
  const figures: Record<string, Figure> = {
    "context, page 1, old": await explain(store, oldContextStatements(null)),
    "context, page 1, new": await explain(
      store,
      await recorded(store, (db) => listChanges(db, { context: CONTEXT }, { limit: 50 })),
    ),
    "context, page 2, old": await explain(
      store,
      oldContextStatements(deepBefore ? String(BigInt(deepBefore) + 1n) : null),
    ),
    "context, page 2, new": await explain(
      store,
      await recorded(store, (db) => listChanges(db, { context: CONTEXT }, { limit: 50, cursor })),
    ),
    "activity 24 h, old": await explain(store, [oldActivityStatement(now)]),
    "activity 24 h, new": await explain(store, await recorded(store, (db) => changeActivity(db, {}, 60, now))),
  };
  console.log(`\n${size.toLocaleString()} changes stored (page 1 had ${first.changes.length} changes)`);
  for (const [name, f] of Object.entries(figures)) {
    console.log(
      `  ${name.padEnd(22)} ${String(f.statements).padStart(2)} statements ${String(f.buffers).padStart(8)} buffers ` +
        `${String(f.rows).padStart(8)} rows ${f.ms.toFixed(1).padStart(8)} ms`,
    );
  }
  return figures;
}

async function main(): Promise<void> {
  const port = Number(process.argv[2] ?? 55311);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "retrace-bounds-"));
  fs.chmodSync(dir, 0o711);
  const server = embeddedServer({ databaseDir: path.join(dir, "data"), port, password: "bounds" });
  await server.initialise();
  await server.start();
  const url = `postgres://postgres:bounds@localhost:${port}/postgres`;
  let store: Store | undefined;
  try {
    await migrateStore(url);
    store = connectStore(url, { max: 2 });
    for (const [i, environment] of ["production", "staging", "test"].entries()) {
      await store.pool.query(
        `insert into sources (id, name, host, port, database, username, password_encrypted, environment,
                              slot_name, publication_name)
         values ($1, $2, 'localhost', 5432, 'shop', 'retrace', 'v1:dummy', $3, $2, 'retrace_pub')`,
        [SOURCES[i], `source_${i}`, environment],
      );
    }
    await keepPartitions(store.pool);
    const start = new Date(Date.now() - 30 * 60_000);
    const results: Record<number, Record<string, Figure>> = {};
    let stored = 0;
    const sizes = process.env.BOUNDS_SIZES?.split(",").map(Number) ?? [200_000, 1_000_000];
    for (const size of sizes) {
      await fill(store, stored, size, start);
      stored = size;
      results[size] = await measure(store, size);
    }
    const [small = 0, large = 0] = [sizes[0], sizes.at(-1)];
    console.log(`\n${large.toLocaleString()} / ${small.toLocaleString()}:`);
    for (const name of Object.keys(results[small] ?? {})) {
      const a = results[small]?.[name];
      const b = results[large]?.[name];
      if (!a || !b) continue;
      console.log(
        `  ${name.padEnd(22)} buffers ${(b.buffers / a.buffers).toFixed(2)}x, ` +
          `rows ${(b.rows / Math.max(1, a.rows)).toFixed(2)}x`,
      );
    }
  } finally {
    await store?.pool.end();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
