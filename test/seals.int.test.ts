/**
 * Tamper evidence against a real store and the real worker: the worker seals what it stored, `retrace verify`
 * passes on the untouched trail, and names exactly the change that was altered, removed or forged in the store.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectStore, storeDb } from "../lib/db/client";
import { verifyDatabases } from "../lib/seals/databases";
import { sealState } from "../lib/seals/state";
import type { Worker } from "../worker/worker";
import { addSource, SECRET, startServers, type Servers } from "./support/servers";
import { waitFor } from "./support/wait";
import { startTestWorker } from "./support/worker";

const root = path.resolve(import.meta.dirname, "..");

let servers: Servers;
let worker: Worker;
let sourceId: string;
let pool: pg.Pool;

type Stored = { id: string; table: string; primary_key: string | null; commit_lsn: string; seq: number };

function retraceVerify(args: string[]) {
  const result = spawnSync(process.execPath, [path.join(root, "bin/retrace.mjs"), "verify", ...args], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: servers.storeUrl, RETRACE_SECRET: SECRET },
    encoding: "utf8",
    timeout: 90_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The i-th stored change of the source, in commit order. */
async function storedAt(i: number): Promise<Stored> {
  const change = (await stored())[i];
  if (!change) throw new Error(`no change ${i}`);
  return change;
}

async function stored(): Promise<Stored[]> {
  return servers.storeQuery<Stored>(
    `select id::text, "table", primary_key, commit_lsn::text, seq from changes where source_id = $1
     order by commit_lsn, seq`,
    [sourceId],
  );
}

async function verify(secret = SECRET) {
  const [result] = await verifyDatabases(pool, secret, { database: sourceId });
  if (!result) throw new Error("no result");
  return result;
}

beforeAll(async () => {
  servers = await startServers();
  await servers.sourceQuery(`
    create table items (id int primary key, name text, doc jsonb);
    create table notes (id int primary key, body text);
    create publication retrace_pub for table items, notes;
  `);
  await servers.sourceQuery("select pg_create_logical_replication_slot('retrace_seals', 'pgoutput')");
  sourceId = await addSource(servers, { slotName: "retrace_seals", publicationName: "retrace_pub" });
  worker = startTestWorker(servers, { sealIntervalMs: 100 });
  pool = new pg.Pool({ connectionString: servers.storeUrl, max: 2 });
  for (let i = 1; i <= 5; i++) {
    await servers.sourceQuery(
      `begin;
       insert into items values (${i}, 'item ${i}', '{"n": ${i}, "b": [1, 2.50]}');
       insert into notes values (${i}, 'note ${i}');
       update items set name = 'renamed ${i}' where id = ${i};
       commit;`,
    );
  }
  await servers.sourceQuery("delete from notes where id = 2");
  await waitFor("16 changes sealed", async () => {
    const [row] = await servers.storeQuery<{ changes: number; sealed: number }>(
      `select (select count(*)::int from changes where source_id = $1) as changes,
              (select count(*)::int from change_seals where source_id = $1) as sealed`,
      [sourceId],
    );
    return row?.changes === 16 && row.sealed === 16;
  });
}, 120_000);

afterAll(async () => {
  await pool?.end();
  await worker?.stop();
  await servers?.stop();
});

describe("tamper evidence", () => {
  it("seals every stored change in commit order with signed checkpoints", async () => {
    const changes = await stored();
    const seals = await servers.storeQuery<{ position: string; change_id: string }>(
      "select position::text, change_id::text from change_seals where source_id = $1 order by change_seals.position",
      [sourceId],
    );
    expect(seals.map((seal) => seal.change_id)).toEqual(changes.map((change) => change.id));
    expect(seals.map((seal) => Number(seal.position))).toEqual(changes.map((_, i) => i + 1));
    const [head] = await servers.storeQuery<{ position: string; change_id: string }>(
      `select position::text, change_id::text from seal_checkpoints where source_id = $1
       order by seal_checkpoints.position desc limit 1`,
      [sourceId],
    );
    expect(head).toEqual({ position: "16", change_id: changes[15]?.id });
  });

  it("keeps each change's schema and operation in its seal; fills in those of seals from before 0026", async () => {
    const kept = () =>
      servers.storeQuery<{ id: string; schema: string | null; operation: string | null }>(
        `select c.id::text, s.schema, s.operation from changes c join change_seals s on s.change_id = c.id
          where c.source_id = $1 order by c.id`,
        [sourceId],
      );
    const expected = await servers.storeQuery(
      `select c.id::text, c.schema, c.operation::text from changes c where c.source_id = $1 order by c.id`,
      [sourceId],
    );
    expect(expected.map((change) => change.operation)).toContain("DELETE");
    expect(await kept()).toEqual(expected);
    // As migration 0027 leaves a store whose seals were written before 0026: the worker's sealer fills them in.
    await servers.storeQuery("update change_seals set schema = null, operation = null where source_id = $1", [
      sourceId,
    ]);
    await servers.storeQuery("insert into seal_row_backfill (source_id, pending_to) values ($1, 16)", [sourceId]);
    await waitFor("the seals filled in", async () => {
      const pending = await servers.storeQuery("select 1 from seal_row_backfill");
      return pending.length === 0;
    });
    expect(await kept()).toEqual(expected);
  });

  it("says how far the chain reaches (the database page's Tamper evidence panel)", async () => {
    const store = connectStore(servers.storeUrl, { max: 1 });
    try {
      const changes = await stored();
      expect(await sealState(store.db, sourceId)).toMatchObject({
        sealedUpTo: { changeId: changes.at(-1)?.id },
        completing: 0,
      });
      // Seals to complete, read in the transaction that wrote them: the worker's sealer never sees them.
      const client = await pool.connect();
      try {
        await client.query("begin");
        await client.query("insert into seal_row_backfill (source_id, pending_to) values ($1, 12)", [sourceId]);
        expect((await sealState(storeDb(client), sourceId)).completing).toBe(12);
      } finally {
        await client.query("rollback");
        client.release();
      }
    } finally {
      await store.pool.end();
    }
  });

  it("verifies the untouched trail (retrace verify exits 0)", async () => {
    const last = await storedAt(15);
    const run = retraceVerify(["--database", "app"]);
    expect(run.stderr).not.toContain("FAILED");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`OK app (${sourceId}): 16 changes verified up to change ${last.id} (notes, key`);
    // From a time: starts at a signed checkpoint before it and still checks what follows.
    const from = retraceVerify(["--database", sourceId, "--from", new Date().toISOString()]);
    expect(from.status).toBe(0);
    expect(from.stdout).toContain("OK app");
  });

  it("names an image altered in the store, and passes again once it is put back", async () => {
    const target = await storedAt(6);
    const [{ after: original } = { after: "" }] = await servers.storeQuery<{ after: string }>(
      "select after::text from changes where id = $1",
      [target.id],
    );
    await servers.storeQuery(`update changes set after = '{"id":3,"name":"forged"}' where id = $1`, [target.id]);
    const run = retraceVerify(["--database", "app"]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(
      `FAILED app (${sourceId}): altered: Change ${target.id} (${target.table}, key ${target.primary_key}) differs`,
    );
    const result = await verify();
    expect(result).toMatchObject({ ok: false, problem: "altered", change: { id: target.id, table: target.table } });

    // Even a change of whitespace in the stored json text is a change of the stored bytes.
    await servers.storeQuery("update changes set after = $2::json where id = $1", [
      target.id,
      original.replace(":", ": "),
    ]);
    expect(await verify()).toMatchObject({ ok: false, problem: "altered", change: { id: target.id } });

    await servers.storeQuery("update changes set after = $2::json where id = $1", [target.id, original]);
    expect(await verify()).toMatchObject({ ok: true, verified: 16 });
  });

  it("names a change deleted from the store", async () => {
    const target = await storedAt(9);
    await servers.storeQuery("create table removed_change as select * from changes where id = $1", [target.id]);
    await servers.storeQuery("delete from changes where id = $1", [target.id]);
    const result = await verify();
    expect(result).toMatchObject({
      ok: false,
      problem: "removed",
      change: { id: target.id, table: target.table, primaryKey: target.primary_key },
    });
    const run = retraceVerify([]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(`removed: Change ${target.id} (${target.table}, key ${target.primary_key})`);

    // Put back exactly as it was: verifies again.
    await servers.storeQuery("insert into changes overriding system value select * from removed_change");
    expect(await verify()).toMatchObject({ ok: true, verified: 16 });
  });

  it("names a change forged into the store between sealed ones", async () => {
    const before = await storedAt(4);
    const [{ id: forged } = { id: "" }] = await servers.storeQuery<{ id: string }>(
      `insert into changes (source_id, environment, database, schema, "table", primary_key, operation, after,
                            transaction_id, commit_lsn, seq, committed_at, queued_at)
       select source_id, environment, database, schema, "table", '["99"]', 'CREATE', '{"id":99}',
              transaction_id, commit_lsn, seq + 1000, committed_at, queued_at
       from changes where id = $1 returning id::text`,
      [before.id],
    );
    const result = await verify();
    expect(result).toMatchObject({
      ok: false,
      problem: "inserted",
      change: { id: forged, table: before.table, primaryKey: '["99"]' },
    });
    // The sealer does not launder it: it only seals past the chain head.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await verify()).toMatchObject({ ok: false, problem: "inserted", change: { id: forged } });
    await servers.storeQuery("delete from changes where id = $1", [forged]);
    expect(await verify()).toMatchObject({ ok: true, verified: 16 });
  });

  it("refuses seals signed with another key, and seals rewritten to match an edit", async () => {
    expect(await verify("another-secret")).toMatchObject({ ok: false, problem: "seals-tampered" });
    const target = await storedAt(2);
    await servers.storeQuery(`update changes set before = '{"id":1}' where id = $1`, [target.id]);
    await servers.storeQuery(
      "update change_seals set digest = repeat('0', 64) where source_id = $1 and change_id = $2",
      [sourceId, target.id],
    );
    expect(await verify()).toMatchObject({ ok: false, problem: "altered", change: { id: target.id } });
  });
});
