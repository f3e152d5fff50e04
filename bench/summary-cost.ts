/**
 * What the summary's new parts (rollups, context entries) cost a store commit: `npx tsx bench/summary-cost.ts [port]`
 * writes store commits of ten 1000-change transactions (20 tables, updates with changed fields, a context on every
 * third transaction) through the worker's StoreTransaction, alternating the full summary statement with one that
 * writes the segments alone (as before: the rollup and context arrays left empty), and prints the store's own
 * durations (log_min_duration_statement) of the summary statement and of the COPYs, per commit.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { SegmentTally } from "../lib/changes/segments";
import { StoreTransaction } from "../lib/changes/write";
import { migrateStore } from "../lib/db/migrate";
import type { ChangeRow } from "../lib/replication/change-row";
import { embeddedServer } from "../lib/store/embedded";

const COMMITS = 60;
const durations: Array<{ ms: number; text: string }> = [];
let segmentsOnly = false;

// The "before" variant: the statement with nothing for the rollups and the context entries.
const proto = SegmentTally.prototype as unknown as { rollups(): unknown[][]; write: SegmentTally["write"] };
const rollups = proto.rollups;
proto.rollups = function (this: SegmentTally) {
  return segmentsOnly ? Array.from({ length: 9 }, () => []) : rollups.call(this);
};
const write = proto.write;
proto.write = function (this: SegmentTally, ...args: Parameters<SegmentTally["write"]>) {
  if (segmentsOnly) (this as unknown as { contexts: Map<string, unknown> }).contexts.clear();
  return write.apply(this, args);
};

function rows(commit: number, sourceLsn: { n: number }): ChangeRow[] {
  const out: ChangeRow[] = [];
  const minute = new Date(Date.UTC(2026, 11, 7, 4, 0) + commit * 20_000).toISOString();
  for (let t = 0; t < 10; t++) {
    const tx = commit * 10 + t;
    const lsn = `0/${(0x100000 + ++sourceLsn.n * 0x10000).toString(16).toUpperCase()}`;
    const table = `t${String(1 + Math.floor(((tx * 0.6180339887498949) % 1) * 20)).padStart(2, "0")}`;
    const context = tx % 3 === 0 ? `{"user_id":${tx % 500},"endpoint":"POST /orders"}` : "{}";
    for (let seq = 0; seq < 1000; seq++) {
      const operation = seq < 600 ? "CREATE" : seq < 950 ? "UPDATE" : "DELETE";
      out.push({
        environment: "production",
        database: "shop",
        schema: "public",
        table,
        primaryKey: String(tx * 1000 + seq),
        operation,
        before: operation === "CREATE" ? null : `{"id":${seq},"amount":1.00,"status":"new"}`,
        after: operation === "DELETE" ? null : `{"id":${seq},"amount":2.00,"status":"new"}`,
        changedFields: operation === "UPDATE" ? [tx % 2 ? "amount" : "status"] : null,
        unavailableFields: [],
        beforeJsonNullFields: null,
        afterJsonNullFields: null,
        partitionSchema: null,
        partitionTable: null,
        bucket: "",
        context,
        transactionId: String(1000 + tx),
        commitLsn: lsn,
        seq,
        committedAt: minute,
        queuedAt: minute,
      });
    }
  }
  return out;
}

async function main(): Promise<void> {
  const port = Number(process.argv[2] ?? 55314);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "retrace-summary-cost-"));
  fs.chmodSync(dir, 0o711);
  const server = embeddedServer({
    databaseDir: path.join(dir, "data"),
    port,
    password: "cost",
    flags: ["-c", "log_min_duration_statement=0"],
    log: (line) => {
      const match = /duration: ([\d.]+) ms\s+(?:statement|execute [^:]*): ([\s\S]{0,40})/.exec(line);
      if (match) durations.push({ ms: Number(match[1]), text: match[2] ?? "" });
    },
  });
  await server.initialise();
  await server.start();
  const url = `postgres://postgres:cost@localhost:${port}/postgres`;
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  try {
    await migrateStore(url);
    const { rows: created } = await pool.query<{ id: string }>(
      `insert into sources (name, environment, host, port, database, username, password_encrypted, slot_name,
                            publication_name)
       values ('cost', 'production', 'h', 5432, 'shop', 'u', 'x', 'cost', 'p') returning id::text as id`,
    );
    const sourceId = created[0]?.id ?? "";
    const lsn = { n: 0 };
    const figures = { before: { summary: 0, copy: 0 }, after: { summary: 0, copy: 0 } };
    for (let commit = 0; commit < COMMITS; commit++) {
      segmentsOnly = commit % 2 === 0;
      const batch = rows(commit, lsn);
      durations.length = 0;
      const store = new StoreTransaction(pool, sourceId, "copy");
      for (let i = 0; i < batch.length; i += 1000) await store.send(batch.slice(i, i + 1000));
      await store.commit(batch.at(-1)?.commitLsn ?? "0/0", null);
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (commit < 10) continue; // warm-up
      const figure = segmentsOnly ? figures.before : figures.after;
      for (const d of durations) {
        if (/^\s*with input as/i.test(d.text)) figure.summary += d.ms;
        else if (/^copy changes/i.test(d.text)) figure.copy += d.ms;
      }
    }
    const per = (n: number) => (n / ((COMMITS - 10) / 2)).toFixed(2);
    for (const [name, f] of Object.entries(figures)) {
      console.log(
        `${name === "before" ? "segments only" : "full summary "}: summary statement ${per(f.summary)} ms, ` +
          `COPY ${per(f.copy)} ms per 10k-change commit`,
      );
    }
  } finally {
    await pool.end();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
