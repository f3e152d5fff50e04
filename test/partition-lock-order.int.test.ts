/**
 * The readers of the trail against the partition DDL's locks. The expirer's DETACH locks `changes`, then its default
 * partition; a statement locks the relations it names in the order it names them. A reader naming `changes_default`
 * before `changes` took the default partition, then waited for `changes` behind the DDL, which waited for the
 * default partition: a deadlock, one of them aborted (the worker logged "sealing failed: deadlock detected"). Here
 * the DDL's two locks are taken exactly around each reader's wait (a list page, a change, a table as of now, the live
 * tail, a seal batch), and both must go through.
 */
import type pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { tableAsOf } from "@/lib/changes/as-of";
import { liveChanges } from "@/lib/changes/live";
import { getChange, listChanges } from "@/lib/changes/queries";
import { summarizeStoredRows } from "@/lib/changes/segments";
import { storeDb, type Queryable } from "@/lib/db/client";
import { ensurePartition } from "@/lib/retention/partitions";
import { spanAt } from "@/lib/retention/spans";
import { sealNextBatch } from "@/lib/seals/seal";
import { bareStore } from "./support/bare-store";
import { startTestServer, type TestServer } from "./support/postgres";
import { waitFor } from "./support/wait";

const SECRET = "partition-lock-order-test-secret-0123456789ab";
let server: TestServer;
let pool: pg.Pool;
let db: Queryable;
let sourceId: string;

beforeAll(async () => {
  server = await startTestServer();
  ({ pool, sourceId } = await bareStore(server, 6));
  db = storeDb(pool);
  await ensurePartition(pool, { sourceId, bucket: "", span: spanAt(new Date(), null) });
  await pool.query(
    `insert into changes (source_id, environment, database, schema, "table", primary_key, operation, after,
                          transaction_id, commit_lsn, seq, committed_at, queued_at)
     select $1, 'test', 'app', 'public', 'items', g::text, 'CREATE', json_build_object('id', g), g,
            ('0/' || to_hex(g * 16))::pg_lsn, 0, now() - (20 - g) * interval '1 second', now()
       from generate_series(1, 20) g`,
    [sourceId],
  );
  await summarizeStoredRows(pool, "1", "20");
}, 120_000);

afterAll(async () => {
  await pool?.end();
  await server?.stop();
});

/**
 * Holds `changes` as the expirer's DETACH does, runs `read` until it waits for a lock, then takes the default
 * partition too (as DETACH goes on to), and commits. Returns what `read` returned.
 */
async function againstDetach<T>(read: () => Promise<T>): Promise<T> {
  const ddl = await pool.connect();
  try {
    await ddl.query("begin");
    await ddl.query("set local lock_timeout = '20s'");
    await ddl.query("lock table only changes in access exclusive mode");
    const reading = read();
    reading.catch(() => undefined);
    await waitFor("the read waiting for a lock", async () => {
      const { rows } = await pool.query<{ n: number }>(
        "select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and pid <> $1",
        [(ddl as unknown as { processID: number }).processID],
      );
      return (rows[0]?.n ?? 0) > 0;
    });
    await ddl.query("lock table changes_default in access exclusive mode");
    await ddl.query("commit");
    return await reading;
  } catch (error) {
    await ddl.query("rollback").catch(() => undefined);
    throw error;
  } finally {
    ddl.release();
  }
}

it("lists, finds and reads a table as of now while the partition DDL locks the trail", async () => {
  const page = await againstDetach(() => listChanges(db, {}, { limit: 5 }));
  expect(page.changes.map((change) => change.id)).toEqual(["20", "19", "18", "17", "16"]);
  expect((await againstDetach(() => getChange(db, "7")))?.change.id).toBe("7");
  const table = await againstDetach(() =>
    tableAsOf(db, { table: "items", sourceId }, new Date().toISOString(), { limit: 100 }),
  );
  expect(table.rows).toHaveLength(20);
});

it("tails new changes while the partition DDL locks the trail", async () => {
  await pool.query("update sources set checkpoint_lsn = '0/140'::pg_lsn where id = $1", [sourceId]);
  const { liveToken } = await listChanges(db, {}, { limit: 1 });
  await pool.query(
    `insert into changes (source_id, environment, database, schema, "table", primary_key, operation, after,
                          transaction_id, commit_lsn, seq, committed_at, queued_at)
     values ($1, 'test', 'app', 'public', 'items', '21', 'CREATE', '{"id":21}', 21, '0/150', 0, now(), now())`,
    [sourceId],
  );
  await summarizeStoredRows(pool, "21", "21");
  await pool.query("update sources set checkpoint_lsn = '0/150'::pg_lsn where id = $1", [sourceId]);
  const tail = await againstDetach(() => liveChanges(db, {}, liveToken, 10));
  expect(tail.changes.map((change) => change.id)).toEqual(["21"]);
});

it("seals while the partition DDL locks the trail", async () => {
  expect(await againstDetach(() => sealNextBatch(pool, sourceId, SECRET))).toBe(21);
  const { rows } = await pool.query<{ n: number }>("select count(*)::int as n from change_seals");
  expect(rows[0]?.n).toBe(21);
});
