/**
 * Seals and archives follow commit order, LSN by LSN, where the text of the LSNs sorts otherwise: PostgreSQL prints
 * an LSN without leading zeros ("0/FA0" < "0/1004" as LSNs, not as text), so a query that orders by the LSN's text
 * seals and archives out of commit order around every such step.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { verifyArchive } from "@/lib/archive/verify";
import { writeArchive } from "@/lib/archive/write";
import { verifyDatabases } from "@/lib/seals/databases";
import { sealAll } from "@/lib/seals/seal";
import { bareStore } from "./support/bare-store";
import { startTestServer, type TestServer } from "./support/postgres";

const SECRET = "seal-order-test-secret-0123456789abcdef";
let server: TestServer;
let pool: pg.Pool;
let sourceId: string;
let work: string;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "retrace-seal-order-"));
  server = await startTestServer();
  ({ pool, sourceId } = await bareStore(server, 3));
  // 300 changes, one per transaction, at LSNs 0/64, 0/C8, …: their text lengths grow from 2 to 5 hex digits.
  await pool.query(
    `insert into changes (source_id, environment, database, schema, "table", primary_key, operation, after,
                          transaction_id, commit_lsn, seq, committed_at, queued_at)
     select $1, 'test', 'app', 'public', 'items', g::text, 'CREATE', json_build_object('id', g), g,
            ('0/' || to_hex(g * 100))::pg_lsn, 0, now() - interval '1 hour' + g * interval '1 second', now()
       from generate_series(1, 300) g`,
    [sourceId],
  );
  while ((await sealAll(pool, SECRET, { batch: 70 })) > 0);
});

afterAll(async () => {
  await pool?.end();
  await server?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

it("seals in LSN order, verifies, and archives what it sealed", async () => {
  const { rows } = await pool.query<{ change_id: string }>(
    "select change_id::text from change_seals where source_id = $1 order by position",
    [sourceId],
  );
  expect(rows.map((row) => Number(row.change_id))).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
  const [verified] = await verifyDatabases(pool, SECRET, { database: sourceId });
  expect(verified).toMatchObject({ ok: true, verified: 300, unsealed: 0 });

  const dir = path.join(work, "archive");
  const from = new Date(Date.now() - 3_600_000 + 30_000);
  const to = new Date(Date.now() - 3_600_000 + 250_000);
  const written = await writeArchive(pool, { name: "a", sourceId, bucket: null, fromAt: from, toAt: to }, dir, SECRET);
  expect(written.manifest.count).toBeGreaterThan(200);
  const archive = await verifyArchive(path.join(dir, "manifest.json"), SECRET);
  expect(archive).toMatchObject({ ok: true, count: written.manifest.count });
});
