import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectStore } from "@/lib/db/client";
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
