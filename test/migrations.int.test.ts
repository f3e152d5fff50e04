import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { summarizeStoredRows } from "@/lib/changes/segments";
import { connectStore } from "@/lib/db/client";
import { fillSealRows } from "@/lib/seals/backfill";
import { migrateStore } from "@/lib/db/migrate";
import { startTestServer, type TestServer } from "./support/postgres";

/** A store with rows written under an older schema must come through the later migrations. */

const drizzleDir = path.resolve(import.meta.dirname, "../drizzle");

let server: TestServer;
let url: string;
let partial: string;

/** A copy of drizzle/ whose journal stops after migration `lastTag`. */
function migrationsUpTo(lastTag: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "retrace-migrations-"));
  fs.cpSync(drizzleDir, dir, { recursive: true });
  const journalPath = path.join(dir, "meta/_journal.json");
  const journal = JSON.parse(fs.readFileSync(journalPath, "utf8")) as { entries: { tag: string }[] };
  const last = journal.entries.findIndex((entry) => entry.tag === lastTag);
  if (last < 0) throw new Error(`no migration ${lastTag}`);
  journal.entries = journal.entries.slice(0, last + 1);
  fs.writeFileSync(journalPath, JSON.stringify(journal));
  return dir;
}

/** A new database `name` on the test server with the migrations up to `lastTag` applied, and no later one: its URL. */
async function storeMigratedTo(name: string, lastTag: string): Promise<string> {
  const dir = migrationsUpTo(lastTag);
  try {
    const url = await server.createDatabase(name);
    const store = connectStore(url, { max: 1 });
    try {
      await migrate(store.db, { migrationsFolder: dir });
    } finally {
      await store.pool.end();
    }
    return url;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

beforeAll(async () => {
  server = await startTestServer();
  url = await server.createDatabase("retrace");
  partial = migrationsUpTo("0002_partial_context_index");
});

afterAll(async () => {
  fs.rmSync(partial, { recursive: true, force: true });
  await server?.stop();
});

describe("0003: changes without FK and operation index, row images as json", () => {
  it("converts the stored jsonb row images and keeps every row", async () => {
    const store = connectStore(url, { max: 1 });
    try {
      await migrate(store.db, { migrationsFolder: partial });
    } finally {
      await store.pool.end();
    }
    const source = await server.query<{ id: string }>(
      `insert into sources (name, host, port, database, username, password_encrypted, environment,
                            slot_name, publication_name)
       values ('a', 'localhost', 5432, 'shop', 'retrace', 'v1:dummy', 'production', 'retrace_a', 'retrace_a')
       returning id::text as id`,
      [],
      "retrace",
    );
    const sourceId = source.rows[0]?.id;
    await server.query(
      `insert into changes (source_id, environment, database, schema, "table", primary_key, operation, before, after,
         context, transaction_id, commit_lsn, seq, committed_at, queued_at)
       values ($1, 'production', 'shop', 'public', 'items', '1', 'UPDATE',
         '{"zeta": 1, "a": 2}', '{"n": 12345678901234567890.10}', '{"user": "ann"}', 1, '0/1', 0, now(), now())`,
      [sourceId],
      "retrace",
    );

    await migrateStore(url);

    const columns = await server.query<{ column_name: string; data_type: string }>(
      `select column_name, data_type from information_schema.columns
        where table_name = 'changes' and column_name in ('before', 'after', 'context') order by column_name`,
      [],
      "retrace",
    );
    expect(columns.rows).toEqual([
      { column_name: "after", data_type: "json" },
      { column_name: "before", data_type: "json" },
      { column_name: "context", data_type: "jsonb" },
    ]);
    const rows = await server.query<{ before: string; after: string; context: string }>(
      "select before::text as before, after::text as after, context::text as context from changes",
      [],
      "retrace",
    );
    // Rows stored before keep jsonb's text: keys ordered by length, every digit.
    expect(rows.rows).toEqual([
      { before: '{"a": 2, "zeta": 1}', after: '{"n": 12345678901234567890.10}', context: '{"user": "ann"}' },
    ]);

    const schema = await server.query<{ constraints: number; operationIndex: number }>(
      `select (select count(*)::int from pg_constraint
                where conrelid = 'changes'::regclass and contype = 'f') as "constraints",
              (select count(*)::int from pg_indexes where indexname = 'changes_operation_id') as "operationIndex"`,
      [],
      "retrace",
    );
    expect(schema.rows[0]).toEqual({ constraints: 0, operationIndex: 0 });
  });
});

describe("0020: changes partitioned by (source_id, bucket, committed_at)", () => {
  it("moves stored changes into monthly partitions per source, keeping ids, sequence and seals", async () => {
    const dbUrl = await storeMigratedTo("retrace_0020", "0019_retention_tables");
    const q = <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) =>
      server.query<T>(sql, params, "retrace_0020").then((r) => r.rows);
    const sources: string[] = [];
    for (const name of ["a", "b"]) {
      const [row] = await q<{ id: string }>(
        `insert into sources (name, host, port, database, username, password_encrypted, environment,
                              slot_name, publication_name)
         values ($1, 'localhost', 5432, $1, 'retrace', 'v1:dummy', 'production', 'retrace_' || $1, 'retrace_' || $1)
         returning id::text as id`,
        [name],
      );
      sources.push(row?.id ?? "");
    }
    // Source a: November and December (UTC; 23:30 at -02 is the next day in UTC); source b: December only.
    const rows: [string, string][] = [
      [sources[0] ?? "", "2026-11-30 23:59:59.999999+00"],
      [sources[0] ?? "", "2026-11-30 23:30:00-02"],
      [sources[1] ?? "", "2026-12-05 10:00:00+00"],
    ];
    for (const [index, [sourceId, committedAt]] of rows.entries()) {
      await q(
        `insert into changes (source_id, environment, database, schema, "table", primary_key, operation, after,
           transaction_id, commit_lsn, seq, committed_at, queued_at)
         values ($1, 'production', 'shop', 'public', 'items', $2, 'CREATE', '{"id": 1}', 1, '0/1', $3, $4, now())`,
        [sourceId, String(index), index, committedAt],
      );
    }
    await q("select setval('changes_id_seq', 500)");
    await q(
      `insert into change_seals (source_id, position, change_id, commit_lsn, seq, "table", digest, hash)
       select source_id, 1, id, commit_lsn, seq, "table", 'd', 'h' from changes where seq = 1
       union all select $1, 2, 999, '0/2', 0, 'items', 'd', 'h'`,
      [sources[0]],
    );
    const stored = await q<{ id: string; seq: number }>("select id::text, seq from changes order by id");

    await migrateStore(dbUrl);

    expect(await q("select id::text, seq from changes order by id")).toEqual(stored);
    const partitions = await q<{ name: string; bucket: string; from_at: string; to_at: string; n: number }>(
      `select p.name, p.bucket, to_char(p.from_at at time zone 'UTC', 'YYYY-MM-DD') as from_at,
              to_char(p.to_at at time zone 'UTC', 'YYYY-MM-DD') as to_at,
              (select count(*)::int from changes c where c.tableoid = p.name::regclass) as n
         from trail_partitions p order by p.name`,
    );
    const tag = (id: string) => id.replace(/-/g, "").slice(0, 12);
    expect(partitions).toEqual(
      [
        {
          name: `changes_${tag(sources[0] ?? "")}_s_20261101`,
          bucket: "",
          from_at: "2026-11-01",
          to_at: "2026-12-01",
          n: 1,
        },
        {
          name: `changes_${tag(sources[0] ?? "")}_s_20261201`,
          bucket: "",
          from_at: "2026-12-01",
          to_at: "2027-01-01",
          n: 1,
        },
        {
          name: `changes_${tag(sources[1] ?? "")}_s_20261201`,
          bucket: "",
          from_at: "2026-12-01",
          to_at: "2027-01-01",
          n: 1,
        },
      ].sort((x, y) => x.name.localeCompare(y.name)),
    );
    expect(await q("select count(*)::int as n from changes_default")).toEqual([{ n: 0 }]);
    // The identity goes on from where it was, and the dedup key still refuses a replayed row.
    const [next] = await q<{ id: string }>(
      `insert into changes (source_id, environment, database, schema, "table", operation, transaction_id,
         commit_lsn, seq, committed_at, queued_at)
       values ($1, 'production', 'shop', 'public', 'items', 'CREATE', 2, '0/9', 0, now(), now()) returning id::text`,
      [sources[1]],
    );
    expect(next?.id).toBe("501");
    await expect(
      q(
        `insert into changes (source_id, environment, database, schema, "table", operation, transaction_id,
           commit_lsn, seq, committed_at, queued_at)
         values ($1, 'production', 'shop', 'public', 'items', 'CREATE', 1, '0/1', 2, $2, now())`,
        [sources[1], "2026-12-05 10:00:00+00"],
      ),
    ).rejects.toThrow(/changes_.*source_lsn_seq|duplicate key/);
    const seals = await q<{ change_id: string; committed_at: string; bucket: string }>(
      `select change_id::text,
              case when committed_at = '-infinity' then '-infinity'
                   else to_char(committed_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS') end as committed_at,
              bucket from change_seals order by change_seals.position, change_id`,
    );
    expect(seals).toEqual([
      { change_id: stored[1]?.id, committed_at: "2026-12-01 01:30:00", bucket: "" },
      { change_id: "999", committed_at: "-infinity", bucket: "" },
    ]);
  });
});

describe("0022: context entries and rollups of the change summary", () => {
  it("backfills them from the changes and segments stored, as the worker would have written them", async () => {
    const oldUrl = await storeMigratedTo("retrace_0022_old", "0021_changes_id_without_primary_key");
    const newUrl = await server.createDatabase("retrace_0022_new");
    const q = <T extends Record<string, unknown>>(database: string, sql: string, params: unknown[] = []) =>
      server.query<T>(sql, params, database).then((r) => r.rows);
    await migrateStore(newUrl);
    // The same changes in both: two sources over five hours, a context on some, updates of one column or another.
    const source = ["00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"];
    for (const database of ["retrace_0022_old", "retrace_0022_new"]) {
      // Ids 16001 to 18000: across a block boundary (16384).
      await q(database, "select setval('changes_id_seq', 16000)");
      await q(
        database,
        `insert into changes (source_id, environment, database, schema, "table", primary_key, operation, after,
                              changed_fields, context, transaction_id, commit_lsn, seq, committed_at, queued_at)
         select ($1::text[])[1 + g % 2]::uuid, 'production', 'shop', 'public', 't' || (g % 3), g::text,
                (array['CREATE', 'UPDATE', 'DELETE'])[1 + g % 3]::operation, '{}',
                case when g % 3 = 1 then array[case when g % 2 = 0 then 'price' else 'name' end] end,
                case when g % 4 = 0 then jsonb_build_object('user_id', g % 7) when g % 9 = 0 then '{}' end,
                g, ('0/' || to_hex(g * 16))::pg_lsn, 0,
                timestamptz '2026-12-05 10:47:00+00' + g * interval '9 seconds', now()
           from generate_series(1, 2000) g`,
        [source],
      );
    }
    // The new store summarises them as the worker does; the old one gets the same segments (all it had then).
    const pool = new pg.Pool({ connectionString: newUrl, max: 1 });
    try {
      await summarizeStoredRows(pool, "16001", "18000");
    } finally {
      await pool.end();
    }
    const segments = await q("retrace_0022_new", "select json_agg(s) as rows from change_segments s");
    await q(
      "retrace_0022_old",
      "insert into change_segments select * from json_populate_recordset(null::change_segments, $1::json)",
      [JSON.stringify(segments[0]?.rows)],
    );

    await migrateStore(oldUrl);

    for (const table of [
      'change_rollups order by span, start, source_id, "table"',
      "change_contexts order by source_id, block, context::text",
    ]) {
      const backfilled = await q("retrace_0022_old", `select * from ${table}`);
      expect(backfilled.length).toBeGreaterThan(10);
      expect(backfilled).toEqual(await q("retrace_0022_new", `select * from ${table}`));
    }
    // Hours are there as well as minutes.
    const [hours] = await q<{ n: number }>(
      "retrace_0022_old",
      "select count(*)::int as n from change_rollups where span = 3600",
    );
    expect(hours?.n).toBe(2 * 3 * 6);
  });
});

describe("0026, 0027: each seal's schema and operation, for time travel's walk", () => {
  it("leaves them to the worker, which fills them in from the stored changes, not for an expired change", async () => {
    const dbUrl = await storeMigratedTo("retrace_0026", "0025_trail_holds");
    const q = <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) =>
      server.query<T>(sql, params, "retrace_0026").then((r) => r.rows);
    const source = "00000000-0000-4000-8000-000000000026";
    await q(
      `insert into changes (source_id, environment, database, schema, "table", primary_key, operation, after,
                            transaction_id, commit_lsn, seq, committed_at, queued_at)
       select $1, 'production', 'shop', case when g = 2 then 'billing' else 'public' end, 'items', g::text,
              (array['CREATE', 'UPDATE', 'DELETE'])[g]::operation, '{}', g, ('0/' || to_hex(g * 16))::pg_lsn, 0,
              timestamptz '2026-12-05 10:00:00+00' + g * interval '1 minute', now()
         from generate_series(1, 3) g`,
      [source],
    );
    // Seals of the three, and of a change that has expired since (id 999).
    await q(
      `insert into change_seals (source_id, position, change_id, commit_lsn, seq, "table", primary_key, digest,
                                 hash, committed_at, bucket)
       select source_id, id, id, commit_lsn, seq, "table", primary_key, 'd', 'h', committed_at, '' from changes
       union all select $1, 4, 999, '0/99', 0, 'items', '9', 'd', 'h', '2026-12-01 00:00:00+00', ''`,
      [source],
    );

    await migrateStore(dbUrl);

    const seals = () => q(`select change_id::text, schema, operation from change_seals order by change_seals.position`);
    expect((await seals()).map((seal) => seal.schema)).toEqual([null, null, null, null]);
    expect(await q("select source_id::text, pending_to::int from seal_row_backfill")).toEqual([
      { source_id: source, pending_to: 4 },
    ]);
    const pool = new pg.Pool({ connectionString: dbUrl, max: 1 });
    try {
      expect(await fillSealRows(pool, 3)).toBe(3);
      expect(await q("select pending_to::int from seal_row_backfill")).toEqual([{ pending_to: 1 }]);
      expect(await fillSealRows(pool, 3)).toBe(1);
      expect(await fillSealRows(pool, 3)).toBe(0);
    } finally {
      await pool.end();
    }
    expect(await q("select * from seal_row_backfill")).toEqual([]);
    expect(await seals()).toEqual([
      { change_id: "1", schema: "public", operation: "CREATE" },
      { change_id: "2", schema: "billing", operation: "UPDATE" },
      { change_id: "3", schema: "public", operation: "DELETE" },
      { change_id: "999", schema: null, operation: null },
    ]);
    const [index] = await q<{ n: number }>(
      "select count(*)::int as n from pg_indexes where indexname = 'change_seals_row'",
    );
    expect(index?.n).toBe(1);
  });
});
