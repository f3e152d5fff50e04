/**
 * `npx tsx bench/stitch.ts [--rounds <n>]`: the CPU the worker's pure core (TransactionBuilder:
 * row images, keys, context stitching) spends on 500 transactions of 1000 single-row inserts,
 * without context messages, with a `_retrace` message every 10 rows, and with a `_bemi` message
 * before every row (Bemi's row trigger); and, without context, with column rules (lib/sources/column-rules.ts) that
 * match other tables only (`rules-other`: what a table without rules costs), that exclude `note` (`exclude`), and
 * that mask `customer` (`mask`: a keyed hash per row). Median and best of `n` rounds, in CPU milliseconds
 * (process.cpuUsage: steadier than wall time on a shared machine). It measures; it never fails.
 */
import { parseArgs } from "node:util";
import type { Pgoutput } from "pg-logical-replication";
import { columnMaskKey, valueMasker } from "../lib/crypto/mask";
import type { ColumnRulesForPlans } from "../lib/replication/images";
import type { RowMessage } from "../lib/replication/rows";
import { TransactionBuilder } from "../lib/replication/rows";
import { ColumnRuleSet, type ColumnRule } from "../lib/sources/column-rules";

const TRANSACTIONS = 500;
const ROWS = 1000;
const { values } = parseArgs({ options: { rounds: { type: "string", default: "15" } } });
const rounds = Math.max(3, Number(values.rounds));

const relation: Pgoutput.MessageRelation = {
  tag: "relation",
  relationOid: 1,
  schema: "public",
  name: "orders",
  replicaIdentity: "full",
  columns: ["id", "customer", "status", "note"].map((name, i) => ({
    name,
    flags: 1,
    typeOid: i === 0 ? 20 : 25,
    typeMod: -1,
    typeSchema: null,
    typeName: null,
    parser: (value: unknown) => value,
  })),
  keyColumns: ["id"],
};
const context = (prefix: string): Pgoutput.MessageMessage => ({
  tag: "message",
  flags: 1,
  transactional: true,
  messageLsn: "0/1",
  prefix,
  content: Buffer.from('{"userId":42,"endpoint":"POST /orders"}'),
});
const retrace = context("_retrace");
const bemi = context("_bemi");
const inserts: RowMessage[] = Array.from({ length: ROWS }, (_, i) => ({
  tag: "insert",
  relation,
  // Customers differ row to row (1000 of them): masking remembers recent values, and one repeated name would
  // flatter it.
  new: [String(i), `customer ${i}`, "paid", "a note of some length"],
}));

type Mode = "none" | "retrace" | "bemi";

// Each row's WAL start, and a `_bemi` message ending there (as pgoutput sends them), made once.
const walStarts = inserts.map((_, i) => `0/${(0x1000 + i * 0x80).toString(16).toUpperCase()}`);
const bemiBefore = walStarts.map((walStart): RowMessage => ({ ...bemi, messageLsn: walStart }));
for (const [i, insert] of inserts.entries()) if (insert.tag === "insert") insert.walStart = walStarts[i];

function run(builder: TransactionBuilder, mode: Mode): number {
  let rows = 0;
  for (let t = 0; t < TRANSACTIONS; t++) {
    const lsn = `0/${(t + 1).toString(16).toUpperCase()}`;
    builder.begin({ tag: "begin", commitLsn: lsn, commitTime: 1, xid: t });
    for (let i = 0; i < ROWS; i++) {
      if (mode === "retrace" && i % 10 === 0) builder.add(retrace);
      const message = mode === "bemi" ? bemiBefore[i] : undefined;
      if (message) builder.add(message);
      const insert = inserts[i];
      if (insert) builder.add(insert);
    }
    const commit = { tag: "commit", flags: 0, commitLsn: lsn, commitEndLsn: "FFFF/0", commitTime: 1 } as const;
    rows += builder.commit(commit).rows.length;
  }
  return rows;
}

// The bench is only worth its numbers if the `_bemi` messages really pair with their rows.
{
  const check = new TransactionBuilder({ environment: "bench", database: "app" }, { keys: () => ["id"] });
  check.begin({ tag: "begin", commitLsn: "0/1", commitTime: 1, xid: 1 });
  for (const [i, insert] of inserts.entries()) {
    const message = bemiBefore[i];
    if (message) check.add(message);
    check.add(insert);
  }
  const rows = check.commit({ tag: "commit", flags: 0, commitLsn: "0/1", commitEndLsn: "0/2", commitTime: 1 }).rows;
  if (rows.some((row) => row.context === "{}")) throw new Error("a _bemi message did not pair with its row");
}

const mask = valueMasker(columnMaskKey("bench-secret"));
const rulesOf = (rules: ColumnRule[]): ColumnRulesForPlans => ({
  set: new ColumnRuleSet({ rules, skipExcludedOnlyUpdates: true }),
  mask,
});
const RULES: Record<string, ColumnRulesForPlans | null> = {
  none: null,
  retrace: null,
  bemi: null,
  "rules-other": rulesOf([{ pattern: "billing.*.card", action: "mask" }]),
  exclude: rulesOf([{ pattern: "*.note", action: "exclude" }]),
  mask: rulesOf([{ pattern: "public.orders.customer", action: "mask" }]),
};

for (const mode of ["none", "retrace", "bemi", "rules-other", "exclude", "mask"] as const) {
  const builder = new TransactionBuilder(
    { environment: "bench", database: "app", columnRules: RULES[mode] ?? null },
    { keys: () => ["id"] },
  );
  const contextMode: Mode = mode === "retrace" || mode === "bemi" ? mode : "none";
  run(builder, contextMode); // warm-up
  const times: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const start = process.cpuUsage();
    run(builder, contextMode);
    const used = process.cpuUsage(start);
    times.push((used.user + used.system) / 1000);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)] ?? 0;
  const best = times[0] ?? 0;
  console.log(
    `${mode.padEnd(12)} ${TRANSACTIONS * ROWS} rows: median ${median.toFixed(0)} ms CPU, best ${best.toFixed(0)} ms`,
  );
}
