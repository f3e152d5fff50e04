/**
 * The sealer takes a batch of each database in turn while any is behind: a database whose changes come faster than
 * they are sealed (a big first ingest) does not keep the others unsealed. The old sealer sealed one database until it
 * caught up before it looked at the next, and in the browse bench left two of three databases unsealed for the
 * whole ingest.
 */
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { verifyDatabases } from "@/lib/seals/databases";
import { sealAll } from "@/lib/seals/seal";
import { bareStore } from "./support/bare-store";
import { startTestServer, type TestServer } from "./support/postgres";

const SECRET = "seal-fairness-test-secret-0123456789abcdef";
let server: TestServer;
let pool: pg.Pool;
const sources: string[] = [];

beforeAll(async () => {
  server = await startTestServer();
  let first: string;
  ({ pool, sourceId: first } = await bareStore(server, 3));
  sources.push(first);
  for (const name of ["b", "c"]) {
    const { rows } = await pool.query<{ id: string }>(
      `insert into sources (name, host, port, database, username, password_encrypted, ssl_mode, environment,
                            slot_name, publication_name)
       values ($1, 'db.invalid', 5432, $1, 'u', 'x', 'disable', 'test', $1, $1) returning id::text`,
      [name],
    );
    sources.push(rows[0]?.id ?? "");
  }
  // 250 changes of each database, one per transaction.
  await pool.query(
    `insert into changes (source_id, environment, database, schema, "table", primary_key, operation, after,
                          transaction_id, commit_lsn, seq, committed_at, queued_at)
     select s.id, 'test', 'app', 'public', 'items', g::text, 'CREATE', json_build_object('id', g), g,
            ('0/' || to_hex(g * 100))::pg_lsn, 0, now() - interval '1 hour' + g * interval '1 second', now()
       from generate_series(1, 250) g, unnest($1::uuid[]) s(id)`,
    [sources],
  );
});

afterAll(async () => {
  await pool?.end();
  await server?.stop();
});

const sealedOf = async () => {
  const { rows } = await pool.query<{ n: number }>(
    `select (select count(*)::int from change_seals c where c.source_id = s.id) as n
       from unnest($1::uuid[]) with ordinality s(id, i) order by s.i`,
    [sources],
  );
  return rows.map((row) => row.n);
};

it("seals a batch of each database in turn while they are behind, then every change", async () => {
  let batches = 0;
  await sealAll(pool, SECRET, { batch: 50, stopping: () => ++batches > 6 });
  expect(await sealedOf()).toEqual([100, 100, 100]);

  expect(await sealAll(pool, SECRET, { batch: 50 })).toBe(450);
  expect(await sealedOf()).toEqual([250, 250, 250]);
  for (const verified of await verifyDatabases(pool, SECRET, {})) {
    expect(verified).toMatchObject({ ok: true, verified: 250, unsealed: 0 });
  }
});

it("rests between full batches only while ingest is at work", async () => {
  const more = async (from: number) =>
    pool.query(
      `insert into changes (source_id, environment, database, schema, "table", primary_key, operation, after,
                            transaction_id, commit_lsn, seq, committed_at, queued_at)
       select $1, 'test', 'app', 'public', 'items', g::text, 'UPDATE', json_build_object('id', g), g,
              ('0/' || to_hex(g * 100))::pg_lsn, 0, now() - interval '1 hour' + g * interval '1 second', now()
         from generate_series($2::int, $2::int + 99) g`,
      [sources[0], from],
    );
  const rests: number[] = [];
  const rest = async (ms: number) => void rests.push(ms);

  await more(1_000);
  expect(await sealAll(pool, SECRET, { batch: 25, duty: 0.5, ingesting: () => false, rest })).toBe(100);
  expect(rests).toEqual([]);

  await more(2_000);
  expect(await sealAll(pool, SECRET, { batch: 25, duty: 0.5, ingesting: () => true, rest })).toBe(100);
  expect(rests).toHaveLength(4);
  expect(rests.every((ms) => ms > 0)).toBe(true);
});
