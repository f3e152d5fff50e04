/**
 * The sealer against the partition keeper moving changes out of the default partition (lib/retention/partitions.ts:
 * in one transaction, the rows leave changes_default and go into a partition attached for them). A read that plans
 * with the partitions as they were and runs with a snapshot taken after the move commits sees those rows nowhere;
 * a sealer reading so would seal the changes after them and leave them unsealed for good (its chain goes on from its
 * head). Here the move commits exactly while the sealer's read waits for the default partition's lock.
 */
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { summarizeStoredRows } from "@/lib/changes/segments";
import { sealNextBatch } from "@/lib/seals/seal";
import { verifySource } from "@/lib/seals/verify";
import { bareStore } from "./support/bare-store";
import { startTestServer, type TestServer } from "./support/postgres";
import { waitFor } from "./support/wait";

const SECRET = "seal-moved-rows-test-secret-0123456789abcdef";
let server: TestServer;
let pool: pg.Pool;
let sourceId: string;

const count = async (text: string) => (await pool.query<{ n: number }>(text, [sourceId])).rows[0]?.n ?? -1;

beforeAll(async () => {
  server = await startTestServer();
  ({ pool, sourceId } = await bareStore(server, 4));
  // No partition is made for the source: its changes wait in the default partition. Ten from last year, then ten
  // from now on (the later commit LSNs).
  await pool.query(
    `insert into changes (source_id, environment, database, schema, "table", primary_key, operation, after,
                          transaction_id, commit_lsn, seq, committed_at, queued_at)
     select $1, 'test', 'app', 'public', 'items', g::text, 'CREATE', json_build_object('id', g), g,
            ('0/' || to_hex(g * 16))::pg_lsn, 0,
            case when g <= 10 then timestamptz '2025-03-10' + g * interval '1 minute' else now() end, now()
       from generate_series(1, 20) g`,
    [sourceId],
  );
  // Summarised as the worker does: the sealer reads from the commit time its summary gives (lib/seals/seal.ts).
  await summarizeStoredRows(pool, "1", "20");
}, 120_000);

afterAll(async () => {
  await pool?.end();
  await server?.stop();
});

/**
 * Runs `read` while the keeper's move of the source's changes in [from, to) into partition `name` is held open (as
 * lib/retention/partitions.ts makes it: default locked, rows out, partition attached, rows in), and commits the move
 * once `read` waits for the default partition's lock.
 */
async function duringMove<T>(name: string, from: string, to: string, read: () => Promise<T>): Promise<T> {
  const keeper = await pool.connect();
  try {
    await keeper.query("begin");
    await keeper.query("lock table changes_default in access exclusive mode");
    const range = `source_id = '${sourceId}' and committed_at >= '${from}' and committed_at < '${to}'`;
    await keeper.query(`create temp table moving on commit drop as select * from changes_default where ${range}`);
    await keeper.query(`delete from changes_default where ${range}`);
    await keeper.query(`create table ${name} (like changes including defaults)`);
    await keeper.query(`alter table changes attach partition ${name}
      for values from ('${sourceId}', '', '${from}') to ('${sourceId}', '', '${to}')`);
    await keeper.query("insert into changes overriding system value select * from moving");
    await keeper.query(
      "insert into trail_partitions (name, source_id, bucket, from_at, to_at) values ($1, $2, '', $3, $4)",
      [name, sourceId, from, to],
    );
    const reading = read();
    await waitFor("the read waiting for a lock", async () => {
      const { rows } = await pool.query<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity
          where wait_event_type = 'Lock' and query like '%from changes%'`,
      );
      return (rows[0]?.n ?? 0) > 0;
    });
    await keeper.query("commit");
    return await reading;
  } finally {
    keeper.release();
  }
}

it("seals changes moved out of the default partition while it reads, none skipped", async () => {
  expect(await count("select count(*)::int as n from changes_default where source_id = $1")).toBe(20);
  // The keeper's move of last year's March, committed while the sealer reads.
  await duringMove("changes_moved_march", "2025-03-01", "2025-04-01", () => sealNextBatch(pool, sourceId, SECRET));
  while ((await sealNextBatch(pool, sourceId, SECRET, 100)) > 0);

  expect(await count("select count(*)::int as n from changes_moved_march where source_id = $1")).toBe(10);
  const { rows } = await pool.query<{ change_id: string }>(
    "select change_id::text from change_seals where source_id = $1 order by position",
    [sourceId],
  );
  expect(rows.map((row) => Number(row.change_id))).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
});

it("verifies a trail whose changes move out of the default partition while it reads", async () => {
  expect(await count("select count(*)::int as n from changes_default where source_id = $1")).toBe(10);
  const result = await duringMove("changes_moved_now", "2025-04-01", "2100-01-01", () =>
    verifySource(pool, sourceId, SECRET),
  );
  expect(result).toMatchObject({ ok: true, verified: 20, unsealed: 0 });
  expect(await count("select count(*)::int as n from changes_moved_now where source_id = $1")).toBe(10);
});
